import { Router } from "express";
import { createMetrics, registerDeploymentGauges, registerQueueDepth, type JobEnqueuer, type Metrics } from "@trainpod/core";
import type { ApiDeps } from "./app";
import { adminAuth } from "./http/admin-auth";
import { adminRoutes } from "./routes/admin";
import { BULL_BOARD_PATH, bullBoardRouter } from "./routes/bull-board";
import { dashboardRoutes } from "./routes/dashboard";
import { metricsRoutes } from "./routes/metrics";

/** The api's metrics registry: queue depth and deployment gauges read at scrape time. */
export function createApiMetrics(deps: Pick<ApiDeps, "prisma" | "queues">): Metrics {
  const metrics = createMetrics("api");
  registerQueueDepth(metrics, deps.queues);
  registerDeploymentGauges(metrics, deps.prisma);
  return metrics;
}

/**
 * Everything operators use, all behind adminAuth (an admin's API key as Bearer or HTTP Basic password):
 * Bull Board at /admin/queues, /dashboard, /v1/stats, /v1/admin/*, and /metrics (or METRICS_TOKEN).
 */
export function adminScreens(deps: ApiDeps & { jobs: JobEnqueuer }): Router {
  const router = Router();
  const admin = adminAuth(deps);
  router.use(metricsRoutes({ metrics: deps.metrics ?? createApiMetrics(deps), token: deps.config.env.METRICS_TOKEN, admin }));
  router.use(BULL_BOARD_PATH, admin, bullBoardRouter(deps.queues));
  router.use(["/dashboard", "/v1/stats", "/v1/admin"], admin);
  router.use(dashboardRoutes());
  router.use(adminRoutes({ ...deps, billingMismatchThresholdMicros: BigInt(deps.config.env.BILLING_MISMATCH_THRESHOLD_MICROS) }));
  return router;
}
