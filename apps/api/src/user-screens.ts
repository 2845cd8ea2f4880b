import path from "node:path";
import express, { Router, type RequestHandler } from "express";
import type { ApiDeps } from "./app";
import type { browserSessions } from "./admin-screens";
import { chartJsFile } from "./routes/dashboard";
import { RUN_ASSETS } from "./routes/run-page-html";
import { runPageLoginRoutes } from "./routes/run-page-login";
import { runPageRoutes } from "./routes/run-pages";
import { runPageAuth } from "./user-screens-auth";

/** The run pages' own files (CSS, JS), kept outside src so src and dist both find them. */
export const RUN_PAGES_DIR = path.resolve(__dirname, "../public/runs");

/**
 * The screens of the people who train: the login (/login, /logout: the admin login's session, for any role), the
 * run pages (/runs, /runs/new, /runs/:id; runPageRoutes), and their code (/runs/assets: CSS, scripts and Chart.js,
 * the same for everyone, nothing of anyone's). The pages' scripts call the user API itself (/v1/deployments,
 * /v1/datasets) with the session: `auth` is the userAuth those routes are mounted behind.
 */
export function userScreens(
  deps: ApiDeps & { browser: ReturnType<typeof browserSessions>; auth: RequestHandler },
): Router {
  const router = Router();
  router.use(
    runPageLoginRoutes({
      ...deps,
      sessions: deps.browser.sessions,
      publicUrl: deps.config.publicUrl,
      sessionMaxMs: deps.browser.absoluteMs,
    }),
  );
  const chartJs = chartJsFile();
  router.get(`${RUN_ASSETS}/vendor/chart.js`, (_req, res) => {
    res.type("application/javascript").sendFile(chartJs, { maxAge: "1h" });
  });
  router.use(RUN_ASSETS, express.static(RUN_PAGES_DIR, { index: false, redirect: false }));
  router.use(
    runPageRoutes({
      prisma: deps.prisma,
      clock: deps.clock,
      prices: deps.prices,
      auth: runPageAuth(deps.auth),
      maxUploadBytes: deps.config.env.DATASET_MAX_BYTES,
    }),
  );
  return router;
}
