import { Router } from "express";
import {
  AppError,
  assertPreflight,
  cancelDeployment,
  deploymentEvents,
  deploymentRequestSchema,
  deploymentView,
  estimateCost,
  estimateRequestSchema,
  eventView,
  getOwnDeployment,
  listDeployments,
  preflight,
  submitDeployment,
  type Clock,
  type JobEnqueuer,
  type PreflightContext,
  type PrismaClient,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";

export interface DeploymentRouteDeps {
  prisma: PrismaClient;
  jobs: JobEnqueuer;
  clock: Clock;
  preflight: PreflightContext;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/;

/** Submit, list, read and cancel deployments. A user sees only their own (others' ids answer 404). */
export function deploymentRoutes(deps: DeploymentRouteDeps): Router {
  const router = Router();

  router.post("/v1/deployments", async (req, res) => {
    const key = req.get("idempotency-key");
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new AppError("VALIDATION_FAILED", "Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 . _ : -");
    }
    const { deployment, created } = await submitDeployment(deps, { userId: currentUserId(req), body: req.body, idempotencyKey: key });
    res.status(created ? 202 : 200).location(`/v1/deployments/${deployment.id}`).json(deploymentView(deployment, deps.clock.now()));
  });

  router.post("/v1/deployments/estimate", async (req, res) => {
    res.json(estimateCost(estimateRequestSchema.parse(req.body)));
  });

  router.post("/v1/deployments/validate", async (req, res) => {
    const body = deploymentRequestSchema.parse(req.body);
    assertPreflight(await preflight(deps.prisma, deps.preflight, currentUserId(req), body));
    res.json({ ok: true, problems: [] });
  });

  router.get("/v1/deployments", async (req, res) => {
    const page = await listDeployments(deps.prisma, currentUserId(req), req.query);
    const now = deps.clock.now();
    res.json({ items: page.items.map((d) => deploymentView(d, now)), nextCursor: page.nextCursor });
  });

  router.get("/v1/deployments/:id", async (req, res) => {
    const d = await getOwnDeployment(deps.prisma, currentUserId(req), req.params.id);
    const events = await deploymentEvents(deps.prisma, d.id);
    res.json({ ...deploymentView(d, deps.clock.now()), events: events.map(eventView) });
  });

  router.post("/v1/deployments/:id/cancel", async (req, res) => {
    const uid = currentUserId(req);
    const d = await getOwnDeployment(deps.prisma, uid, req.params.id);
    await cancelDeployment(deps, d.id, `user ${uid}`);
    const fresh = await getOwnDeployment(deps.prisma, uid, d.id);
    res.status(202).json(deploymentView(fresh, deps.clock.now()));
  });

  return router;
}
