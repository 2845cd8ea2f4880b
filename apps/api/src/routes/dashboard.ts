import path from "node:path";
import express, { Router } from "express";

/** The dashboard's own files (HTML, JS, CSS), kept outside src so src and dist both find them. */
export const DASHBOARD_DIR = path.resolve(__dirname, "../../public/dashboard");

/** Chart.js's browser build, from node_modules: served by us, never from a CDN. */
export function chartJsFile(): string {
  return path.join(path.dirname(require.resolve("chart.js")), "chart.umd.min.js");
}

/** GET /dashboard (the page and its assets) and /dashboard/vendor/chart.js; mounted behind adminAuth. */
export function dashboardRoutes(): Router {
  const router = Router();
  const chartJs = chartJsFile();
  router.get("/dashboard/vendor/chart.js", (_req, res) => {
    res.type("application/javascript").sendFile(chartJs, { maxAge: "1h" });
  });
  router.use("/dashboard", express.static(DASHBOARD_DIR, { index: "index.html", redirect: true }));
  return router;
}
