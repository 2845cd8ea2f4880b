import { Router } from "express";
import {
  AppError,
  cancelDeployment,
  checkpointObject,
  eventObject,
  eventRowId,
  getOwnDeployment,
  jobObject,
  listCheckpoints,
  listDeployments,
  LISTED_EVENT_TYPES,
  mapCreateJob,
  trainpodId,
  type Deployment,
  type JobExtras,
  type PrismaClient,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { submitWithEstimate, type DeploymentRouteDeps } from "../routes/deployments";
import { pageOf, pageQuery } from "./paging";

export interface OpenAiJobDeps extends DeploymentRouteDeps {
  /** OPENAI_DEFAULT_GPU_TYPES: a job's GPU types when its metadata names none */
  defaultGpuTypes: string[];
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/;

/** The OpenAI fields stored beside each deployment (none for one submitted through /v1/deployments). */
async function extrasOf(prisma: PrismaClient, ids: string[]): Promise<Map<string, JobExtras>> {
  const rows = await prisma.openAiJob.findMany({ where: { deploymentId: { in: ids } } });
  return new Map(
    rows.map((r) => [
      r.deploymentId,
      {
        suffix: r.suffix,
        metadata: (r.metadata as Record<string, string> | null) ?? null,
        integrations: (r.integrations as unknown[] | null) ?? null,
      },
    ]),
  );
}

async function view(prisma: PrismaClient, d: Deployment) {
  return jobObject(d, (await extrasOf(prisma, [d.id])).get(d.id) ?? null);
}

/**
 * The fine-tuning jobs: a job is a deployment of the caller's, created through submitDeployment (every rule of
 * POST /v1/deployments: pre-flight, budgets, slots, the estimate) from the mapped request (core's mapCreateJob).
 */
export function openAiJobRoutes(deps: OpenAiJobDeps): Router {
  const router = Router();
  const own = (req: Parameters<Parameters<Router["get"]>[1]>[0]) =>
    getOwnDeployment(deps.prisma, currentUserId(req), trainpodId("job", req.params.id));

  router.post("/fine_tuning/jobs", async (req, res) => {
    const userId = currentUserId(req);
    const key = req.get("idempotency-key");
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
      throw new AppError("VALIDATION_FAILED", "Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 . _ : -");
    const mapped = mapCreateJob(req.body, { gpuTypeIds: deps.defaultGpuTypes });
    const { deployment, created } = await submitWithEstimate(deps, userId, mapped.body, key);
    if (created) {
      const { suffix, metadata, integrations } = mapped.extras;
      await deps.prisma.openAiJob.create({
        data: {
          deploymentId: deployment.id,
          userId,
          suffix,
          ...(metadata ? { metadata } : {}),
          ...(integrations ? { integrations: integrations as object[] } : {}),
        },
      });
    }
    res.status(200).json(await view(deps.prisma, deployment));
  });

  router.get("/fine_tuning/jobs", async (req, res) => {
    const userId = currentUserId(req);
    if (Object.keys(req.query).some((k) => k.startsWith("metadata")))
      throw new AppError("VALIDATION_FAILED", "filtering jobs by metadata is not supported", {
        details: { param: "metadata" },
      });
    const { limit, after } = pageQuery(req.query);
    const cursor = after === undefined ? undefined : trainpodId("job", after, "after");
    const page = await listDeployments(deps.prisma, userId, { limit, ...(cursor ? { cursor } : {}) });
    const extras = await extrasOf(
      deps.prisma,
      page.items.map((d) => d.id),
    );
    res.json({
      object: "list",
      data: page.items.map((d) => jobObject(d, extras.get(d.id) ?? null)),
      has_more: page.nextCursor !== null,
    });
  });

  router.get("/fine_tuning/jobs/:id", async (req, res) => {
    res.json(await view(deps.prisma, await own(req)));
  });

  router.post("/fine_tuning/jobs/:id/cancel", async (req, res) => {
    const d = await own(req);
    await cancelDeployment(deps, d.id, `user ${currentUserId(req)} (OpenAI API)`);
    res.json(await view(deps.prisma, await own(req)));
  });

  router.get("/fine_tuning/jobs/:id/events", async (req, res) => {
    const d = await own(req);
    const { limit, after } = pageQuery(req.query);
    const rows = await deps.prisma.deploymentEvent.findMany({
      where: {
        deploymentId: d.id,
        type: { in: [...LISTED_EVENT_TYPES] },
        ...(after !== undefined ? { id: { lt: eventRowId(after) } } : {}),
      },
      orderBy: { id: "desc" },
      take: limit + 1,
    });
    res.json({
      object: "list",
      data: rows.slice(0, limit).map((e) => eventObject(e, d.id)),
      has_more: rows.length > limit,
    });
  });

  router.get("/fine_tuning/jobs/:id/checkpoints", async (req, res) => {
    const d = await own(req);
    const page = pageQuery(req.query);
    // the resume work's complete checkpoints (issue 27), newest first as OpenAI lists them
    const all = (await listCheckpoints(deps.prisma, d.id)).reverse().map((c) => checkpointObject(c, d.id, d.baseModel));
    res.json(pageOf(all, page, "a checkpoint of this job"));
  });

  return router;
}
