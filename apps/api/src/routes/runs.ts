import express, { Router, type Request, type RequestHandler } from "express";
import { bearerToken } from "../http/auth";
import { pathParam } from "../http/path-param";
import { markRunAuthenticated } from "../http/security";
import {
  AppError,
  agentBundle,
  artifactUploadUrl,
  checkpointFilesOfChain,
  checkpointManifestStep,
  checkpointsKept,
  completeArtifact,
  pruneCheckpoints,
  recordRunEvent,
  reissueDatasetUrl,
  reserveArtifact,
  storeArtifactThroughApi,
  verifyRunToken,
  type ArtifactDeps,
  type BlobStorage,
  type Clock,
  type JobEnqueuer,
  type PrismaClient,
  type RunPodClient,
} from "@trainpod/core";

export interface RunRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  jobs: JobEnqueuer;
  artifacts: ArtifactDeps;
  /** to adopt a pod that reports before its deployment recorded it */
  runpod?: Pick<RunPodClient, "getPod">;
  podNamePrefix?: string;
  /** the per-deployment rate limit (security.ts runRateLimit), applied once the run token holds */
  rateLimit?: RequestHandler;
  /** the dataset storage and its presigned GETs' validity (S3_DATASET_PRESIGN_SECONDS), for dataset URL re-issues */
  dataset?: { storage: BlobStorage; presignSeconds: number };
}

function bearer(req: Request): string {
  const token = bearerToken(req.get("authorization"));
  if (!token) throw new AppError("UNAUTHORIZED", "a run token is required");
  return token;
}

/**
 * The pod's callbacks, authenticated by the deployment's run token: events, and artifact uploads (declare,
 * then the bytes through the API or presigned PUTs to the bucket, then complete; docs/artifacts.md).
 * Mounted before the app's JSON parser: every request under /v1/runs/:id shows its token first (a made-up id
 * or token is 401 before its body is parsed; Node then discards the rest), then spends its deployment's rate
 * limit, and only then is a JSON body parsed (256 kB, as everywhere).
 */
export function runRoutes(deps: RunRouteDeps): Router {
  const router = Router();
  const json = express.json({ limit: "256kb" });

  router.use(
    "/v1/runs/:id",
    async (req, res, next) => {
      const { deploymentId } = await verifyRunToken(deps.prisma, deps.clock, String(req.params.id), bearer(req));
      markRunAuthenticated(res, deploymentId);
      next();
    },
    deps.rateLimit ?? ((_req, _res, next) => next()),
  );

  // a repeat (its seq already applied, or a second outcome) is acknowledged too, saying it changed nothing
  router.post("/v1/runs/:id/events", json, async (req, res) => {
    const { applied } = await recordRunEvent(deps, String(req.params.id), req.body);
    res.status(202).json(applied ? { ok: true } : { ok: true, applied: false });
  });

  router.post("/v1/runs/:id/artifacts", json, async (req, res) => {
    res.status(201).json(await reserveArtifact(deps.artifacts, String(req.params.id), req.body));
  });

  router.post("/v1/runs/:id/artifacts/url", json, async (req, res) => {
    const signed = await artifactUploadUrl(deps.artifacts, String(req.params.id), req.body);
    res.set("Cache-Control", "no-store").json({ ...signed, expiresAt: signed.expiresAt.toISOString() });
  });

  router.post("/v1/runs/:id/artifacts/complete", json, async (req, res) => {
    const file = await completeArtifact(deps.artifacts, String(req.params.id), req.body);
    await afterStored(deps, String(req.params.id), file.path);
    res.json(file);
  });

  // a resumed attempt's checkpoint (issue 27): its files, each through the API or a presigned GET of the bucket
  router.get("/v1/runs/:id/resume", async (req, res) => {
    const { files, step, path } = await resumeFiles(deps, String(req.params.id));
    const direct = deps.artifacts.storage.direct;
    const items = await Promise.all(
      files.map(async (f) => {
        const rel = f.path.slice(path.length + 1);
        const view = { path: rel, sizeBytes: Number(f.sizeBytes), sha256: f.sha256 };
        if (!direct) return { ...view, url: `/v1/runs/${req.params.id}/resume/files/${encodeURI(rel)}`, auth: true };
        const signed = await direct.presignGet(f.storageKey, {
          expiresInSeconds: deps.artifacts.limits.presignSeconds,
        });
        return { ...view, url: signed.url, auth: false };
      }),
    );
    res.set("Cache-Control", "no-store").json({ path, step, files: items });
  });

  router.get("/v1/runs/:id/resume/files/*path", async (req, res) => {
    const { files, path } = await resumeFiles(deps, String(req.params.id));
    const file = files.find((f) => f.path === `${path}/${pathParam(req)}`);
    if (!file) throw new AppError("NOT_FOUND", "no such file in the checkpoint this attempt resumes from");
    const blob = await deps.artifacts.storage.get(file.storageKey);
    res.set({ "Content-Type": "application/octet-stream", "Content-Length": String(file.sizeBytes) });
    blob.stream.pipe(res);
  });

  // a fresh presigned GET of the dataset, once the token URL was spent on the redirect to the bucket
  router.post("/v1/runs/:id/dataset/url", json, async (req, res) => {
    if (!deps.dataset) throw new AppError("NOT_A_BUCKET", "the dataset is served through the API at its token URL");
    const signed = await reissueDatasetUrl(
      { prisma: deps.prisma, clock: deps.clock, ...deps.dataset },
      String(req.params.id),
    );
    res.set("Cache-Control", "no-store").json({ url: signed.url, expiresAt: signed.expiresAt.toISOString() });
  });

  // the pod agent's zipapp, which the pod's bootstrap fetches, checks against its pinned sha256 and runs
  router.get("/v1/runs/:id/agent", (_req, res) => {
    const agent = agentBundle();
    res
      .set({ "Content-Type": "application/zip", "X-Content-SHA256": agent.sha256, "Cache-Control": "no-store" })
      .send(agent.bytes);
  });

  // the bytes themselves: read by the storage, never by a parser (whatever their content type)
  router.put("/v1/runs/:id/artifacts/*path", async (req, res) => {
    const rel = pathParam(req);
    try {
      const file = await storeArtifactThroughApi(deps.artifacts, String(req.params.id), rel, req);
      await afterStored(deps, String(req.params.id), file.path);
      res.status(201).json(file);
    } catch (err) {
      if (!req.complete) {
        // refused before the body was read (or mid-way): do not keep reading a multi-GB body for nothing
        res.set("Connection", "close");
        req.resume();
      }
      throw err;
    }
  });

  return router;
}

/** A checkpoint's manifest stored (its last file): the deployment keeps its last checkpoints_kept (issue 27). */
async function afterStored(deps: RunRouteDeps, deploymentId: string, path: string): Promise<void> {
  if (checkpointManifestStep(path) === null) return;
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId }, select: { hyperparameters: true } });
  await pruneCheckpoints(deps.artifacts, deploymentId, checkpointsKept(d?.hyperparameters));
}

/** The files of the checkpoint this deployment resumes from (an earlier attempt's artifacts); NOT_FOUND otherwise. */
async function resumeFiles(deps: RunRouteDeps, deploymentId: string) {
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId } });
  if (!d || d.resumedFromPath === null || d.resumedFromStep === null)
    throw new AppError("NOT_FOUND", "this deployment does not resume from a checkpoint");
  const files = await checkpointFilesOfChain(deps.prisma, d, d.resumedFromPath);
  if (!files) throw new AppError("NOT_FOUND", `the checkpoint ${d.resumedFromPath} is no longer stored`);
  return { files, step: d.resumedFromStep, path: d.resumedFromPath };
}
