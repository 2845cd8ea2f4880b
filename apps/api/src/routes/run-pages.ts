import { Router, type Request, type RequestHandler, type Response } from "express";
import {
  AppError,
  deploymentView,
  getOwnDeployment,
  LISTED_GPU_TYPES,
  listArtifacts,
  listDatasets,
  listDeployments,
  phaseTimes,
  progressHistory,
  type CloudType,
  type Clock,
  type GpuPriceList,
  type PrismaClient,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { isPageNavigation } from "../user-screens-auth";
import { newRunBody, type OfferedGpu } from "./run-page-form";
import { escapeHtml, jsonBlock, layout, RUN_ASSETS, runListBody, statusBadge } from "./run-page-html";
import { runPanelHtml } from "./run-page-panel";
import { resumePanel } from "./run-page-resume";

export interface RunPageDeps {
  prisma: PrismaClient;
  clock: Clock;
  prices: (cloud: CloudType, count: number) => Promise<GpuPriceList>;
  /** userAuth behind runPageAuth: a session (or an API key); a browser without one goes to the login */
  auth: RequestHandler;
  /** DATASET_MAX_BYTES, said on the upload form */
  maxUploadBytes: number;
}

const CHART_JS = `${RUN_ASSETS}/vendor/chart.js`;

function sendPage(res: Response, html: string, status = 200): void {
  res.status(status).set("Cache-Control", "no-store").type("html").send(html);
}

/** A page's query value as one string (a repeated parameter is not one). */
const queryText = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The offered GPU types: those the current price list prices in either cloud, cheapest Secure first. */
async function offeredGpus(deps: RunPageDeps): Promise<{ gpus: OfferedGpu[]; source: string }> {
  const [secure, community] = await Promise.all([deps.prices("SECURE", 1), deps.prices("COMMUNITY", 1)]);
  const gpus = LISTED_GPU_TYPES.map((id) => ({
    id,
    secureMicros: secure.perGpuMicros(id, "SECURE"),
    communityMicros: community.perGpuMicros(id, "COMMUNITY"),
  })).filter((g) => g.secureMicros !== null || g.communityMicros !== null);
  const price = (g: OfferedGpu) => g.secureMicros ?? g.communityMicros ?? 0n;
  gpus.sort((a, b) => (price(a) < price(b) ? -1 : price(a) > price(b) ? 1 : 0));
  return { gpus, source: secure.source };
}

/** The run's live part, as the page and GET /runs/:id/panel show it. */
async function panelOf(deps: RunPageDeps, req: Request) {
  const d = await getOwnDeployment(deps.prisma, currentUserId(req), String(req.params.id));
  const now = deps.clock.now();
  const [phases, artifacts, resume] = await Promise.all([
    phaseTimes(deps.prisma, d.id),
    listArtifacts(deps.prisma, d),
    resumePanel(deps.prisma, d, now),
  ]);
  return { d, v: deploymentView(d, now), phases, artifacts, now, resume };
}

/** A browser opening someone else's (or no) run gets a page saying so, with the same 404 as the API's. */
function notFoundPage(req: Request, res: Response, err: unknown): void {
  if (!(err instanceof AppError && err.code === "NOT_FOUND" && isPageNavigation(req))) throw err;
  const body = `<h1>Run not found</h1><p>There is no run of yours with this id. <a href="/runs">Your runs</a></p>`;
  sendPage(res, layout({ title: "not found", email: req.user?.email ?? "", body }), 404);
}

/**
 * The people who train's pages, each showing only the caller's own runs (another user's id is 404, as in the API):
 * GET /runs (My runs: filter by status, keyset paging), GET /runs/new (the new-run form), GET /runs/:id (a run's
 * page: loss chart, phases, cost, failure, resumed attempts, files, cancel, retry and resume; live over the timeline
 * stream) and
 * GET /runs/:id/panel (its live part, HTML, for the page's script).
 */
export function runPageRoutes(deps: RunPageDeps): Router {
  const router = Router();
  router.use("/runs", deps.auth);

  router.get("/runs", async (req, res) => {
    const status = queryText(req.query.status);
    const cursor = queryText(req.query.cursor);
    const page = await listDeployments(deps.prisma, currentUserId(req), { status, cursor, limit: 20 });
    const body = runListBody({ ...page, status, now: deps.clock.now() });
    sendPage(res, layout({ title: "My runs", email: req.user?.email ?? "", body, scripts: [`${RUN_ASSETS}/runs.js`] }));
  });

  router.get("/runs/new", async (req, res) => {
    const [datasets, offered] = await Promise.all([
      listDatasets(deps.prisma, currentUserId(req), { limit: 100 }),
      offeredGpus(deps),
    ]);
    const body = newRunBody({
      datasets: datasets.items,
      gpus: offered.gpus,
      priceSource: offered.source,
      maxUploadBytes: deps.maxUploadBytes,
    });
    sendPage(
      res,
      layout({ title: "New run", email: req.user?.email ?? "", body, scripts: [`${RUN_ASSETS}/new-run.js`] }),
    );
  });

  router.get("/runs/:id", async (req, res) => {
    let panel;
    try {
      panel = await panelOf(deps, req);
    } catch (err) {
      return notFoundPage(req, res, err);
    }
    const { d } = panel;
    const [points, last] = await Promise.all([
      progressHistory(deps.prisma, d.id),
      deps.prisma.deploymentEvent.findFirst({
        where: { deploymentId: d.id },
        orderBy: { id: "desc" },
        select: { id: true },
      }),
    ]);
    const data = {
      id: d.id,
      lastEventId: last?.id.toString() ?? "0",
      points: points.map((p) => ({
        step: p.step,
        loss: p.loss,
        evalLoss: p.evalLoss,
        ...(p.rewardMargin === undefined ? {} : { rewardMargin: p.rewardMargin }),
      })),
      totalSteps: d.progressTotalSteps,
    };
    const body = `<p class="crumbs"><a href="/runs">My runs</a> / <code>${d.id}</code></p>
  <h1>${escapeHtml(d.baseModel)} <span id="title-status">${statusBadge(d.status)}</span></h1>
  <section class="panel chart"><h2>Loss</h2>
    <div class="chart-box"><canvas id="loss-chart" aria-label="train and eval loss against steps"></canvas></div>
    <p id="chart-note" class="muted">${points.length === 0 ? "No step reported yet." : `${points.length} steps stored`}</p></section>
  ${runPanelHtml(panel)}
  ${jsonBlock("run-data", data)}`;
    sendPage(
      res,
      layout({
        title: `run ${d.id.slice(0, 8)}`,
        email: req.user?.email ?? "",
        body,
        scripts: [CHART_JS, `${RUN_ASSETS}/run.js`],
      }),
    );
  });

  router.get("/runs/:id/panel", async (req, res) => {
    const html = runPanelHtml(await panelOf(deps, req));
    res.set("Cache-Control", "no-store").type("html").send(html);
  });

  return router;
}
