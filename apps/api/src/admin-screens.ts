import { Router } from "express";
import {
  createMetrics,
  registerDeploymentGauges,
  registerQueueDepth,
  spendSettingsFromEnv,
  type JobEnqueuer,
  type Metrics,
  type UserLimitsCache,
} from "@trainpod/core";
import type { ApiDeps } from "./app";
import { adminAuth } from "./http/admin-auth";
import { AdminSessions } from "./http/admin-session";
import { adminRoutes } from "./routes/admin";
import { adminLimitRoutes } from "./routes/admin-limits";
import { adminCacheRoutes } from "./routes/admin-cache";
import { adminLoginRoutes } from "./routes/admin-login";
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

/** The browser sessions (one login for the admin screens and the run pages), with the config's limits. */
export function browserSessions(deps: Pick<ApiDeps, "config" | "redis" | "prisma" | "clock">): {
  sessions: AdminSessions;
  absoluteMs: number;
} {
  const env = deps.config.env;
  const limits = {
    idleMs: env.ADMIN_SESSION_IDLE_MINUTES * 60_000,
    absoluteMs: env.ADMIN_SESSION_MAX_HOURS * 3_600_000,
    keyCacheTtlMs: env.API_KEY_CACHE_TTL_MS,
  };
  return { sessions: new AdminSessions({ ...deps, prefix: env.QUEUE_PREFIX }, limits), absoluteMs: limits.absoluteMs };
}

/**
 * Everything operators use, all behind adminAuth (the login's session cookie, an admin's API key as
 * Bearer, or as HTTP Basic password for reads): Bull Board at /admin/queues, /dashboard, /v1/stats,
 * /v1/admin/*, and /metrics (or METRICS_TOKEN); and the login itself (/admin/login, /admin/logout).
 */
export function adminScreens(
  deps: ApiDeps & { jobs: JobEnqueuer; limitsCache?: UserLimitsCache; browser?: ReturnType<typeof browserSessions> },
): Router {
  const router = Router();
  const { sessions, absoluteMs } = deps.browser ?? browserSessions(deps);
  const publicUrl = deps.config.publicUrl;
  router.use(adminLoginRoutes({ ...deps, sessions, publicUrl, sessionMaxMs: absoluteMs }));
  const admin = adminAuth({ ...deps, sessions, publicUrl });
  router.use(metricsRoutes({ metrics: deps.metrics, token: deps.config.env.METRICS_TOKEN, admin }));
  router.use(BULL_BOARD_PATH, admin, bullBoardRouter(deps.queues));
  router.use(["/dashboard", "/v1/stats", "/v1/admin"], admin);
  router.use(dashboardRoutes());
  const spend = spendSettingsFromEnv(deps.config.env);
  router.use(
    adminRoutes({
      ...deps,
      preflight: {
        publicUrl: deps.config.publicUrl,
        simulated: deps.config.runpod.local,
        spend,
        cacheMountPath: deps.config.env.CACHE_VOLUME_MOUNT_PATH,
      },
      billingMismatchThresholdMicros: BigInt(deps.config.env.BILLING_MISMATCH_THRESHOLD_MICROS),
    }),
  );
  const usdPerGbMonth = deps.config.env.CACHE_VOLUME_USD_PER_GB_MONTH;
  router.use(
    adminLimitRoutes({
      prisma: deps.prisma,
      clock: deps.clock,
      spend,
      limitsCache: deps.limitsCache,
      cache: deps.cache,
      usdPerGbMonth,
    }),
  );
  router.use(adminCacheRoutes({ cache: deps.cache, usdPerGbMonth }));
  return router;
}
