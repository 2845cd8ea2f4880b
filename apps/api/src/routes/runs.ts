import { Router, type Request } from "express";
import { bearerToken } from "../http/auth";
import { AppError, recordRunEvent, verifyRunToken, type BlobStorage, type Clock, type JobEnqueuer, type PrismaClient, type RunPodClient } from "@trainpod/core";

export interface RunRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  jobs: JobEnqueuer;
  artifacts: BlobStorage;
  maxArtifactBytes: number;
  /** to adopt a pod that reports before its deployment recorded it */
  runpod?: Pick<RunPodClient, "getPod">;
  podNamePrefix?: string;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

function bearer(req: Request): string {
  const token = bearerToken(req.get("authorization"));
  if (!token) throw new AppError("UNAUTHORIZED", "a run token is required");
  return token;
}

/** `a/b/c.bin` → checked segments; no `..`, no absolute path, no odd characters. */
export function artifactKey(deploymentId: string, relative: string): string {
  const segments = relative.split("/");
  if (segments.length > 8 || !segments.every((s) => SEGMENT.test(s) && s !== "." && s !== "..")) {
    throw new AppError("VALIDATION_FAILED", "artifact path must be up to 8 segments of A-Z a-z 0-9 . _ -");
  }
  return `${deploymentId}/${segments.join("/")}`;
}

/** The pod's callbacks: events and artifact uploads, authenticated by the deployment's run token. */
export function runRoutes(deps: RunRouteDeps): Router {
  const router = Router();

  router.post("/v1/runs/:id/events", async (req, res) => {
    await verifyRunToken(deps.prisma, deps.clock, req.params.id, bearer(req));
    await recordRunEvent(deps, req.params.id, req.body);
    res.status(202).json({ ok: true });
  });

  router.put("/v1/runs/:id/artifacts/*path", async (req, res) => {
    await verifyRunToken(deps.prisma, deps.clock, req.params.id, bearer(req));
    const rel = ([] as string[]).concat((req.params as Record<string, string | string[]>).path ?? []).join("/");
    const key = artifactKey(req.params.id, rel);
    const stored = await deps.artifacts.put(key, req, { maxBytes: deps.maxArtifactBytes });
    res.status(201).json({ key: rel, sizeBytes: stored.sizeBytes, sha256: stored.sha256 });
  });

  return router;
}
