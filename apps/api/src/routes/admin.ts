import { Router } from "express";
import {
  canActOnScreens,
  cancelDeployment,
  deploymentView,
  findDeployment,
  lastLines,
  listAllDeployments,
  parseStatsQuery,
  retryDeployment,
  statsReport,
  type Clock,
  type JobEnqueuer,
  type CloudType,
  type GpuPriceList,
  type PreflightContext,
  type PrismaClient,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { sendDeployment } from "../http/send-json";

export interface AdminRouteDeps {
  prisma: PrismaClient;
  jobs: JobEnqueuer;
  clock: Clock;
  /** RunPod's bill and ours may differ this much before a deployment counts as a mismatch */
  billingMismatchThresholdMicros?: bigint;
  /** a retry is a new submission: every rule a submission passes applies (spend rules included), as they stand */
  preflight: PreflightContext;
  /** GPU list prices for a cloud and count (RunPod's catalog, or the offline table), as a submission reads them */
  prices?: (cloud: CloudType, count: number) => Promise<GpuPriceList>;
}

/**
 * The operators' endpoints (mounted behind adminAuth): stats, every user's deployments (with what the
 * viewer may do), and the dashboard's actions, retry of a failed deployment and cancel of a live one
 * (admins only: adminAuth refuses an operator's POST).
 */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const router = Router();

  router.get("/v1/stats", async (req, res) => {
    const now = deps.clock.now();
    res.json(await statsReport(deps.prisma, parseStatsQuery(req.query, now), now, deps.billingMismatchThresholdMicros));
  });

  router.get("/v1/admin/deployments", async (req, res) => {
    const now = deps.clock.now();
    const rows = await listAllDeployments(deps.prisma, req.query);
    const role = req.user?.role ?? "USER";
    res.json({
      items: rows.map((d) => ({
        ...deploymentView(d, now),
        userId: d.userId,
        lastLogLines: lastLines(d.failureMessage),
      })),
      viewer: { role, canAct: canActOnScreens(role) },
    });
  });

  router.post("/v1/admin/deployments/:id/retry", async (req, res) => {
    const { deployment, created } = await retryDeployment(deps, req.params.id, `admin ${currentUserId(req)}`);
    sendDeployment(res, deployment, created, deps.clock.now());
  });

  router.post("/v1/admin/deployments/:id/cancel", async (req, res) => {
    const d = await findDeployment(deps.prisma, req.params.id);
    await cancelDeployment(deps, d.id, `admin ${currentUserId(req)}`);
    res.status(202).json(deploymentView(await findDeployment(deps.prisma, d.id), deps.clock.now()));
  });

  return router;
}
