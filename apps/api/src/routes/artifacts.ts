import { pipeline } from "node:stream";
import { Router, type Request, type Response } from "express";
import {
  AppError,
  findDeployment,
  deleteArtifacts,
  getOwnDeployment,
  listArtifacts,
  storedArtifact,
  type Artifact,
  type ArtifactDeps,
  type Logger,
  type PrismaClient,
} from "@trainpod/core";
import { currentUserId, requireScreenAccess } from "../http/auth";
import { pathParam } from "../http/path-param";
import { parseRange } from "../http/range";

export interface ArtifactRouteDeps {
  prisma: PrismaClient;
  artifacts: ArtifactDeps;
  logger: Logger;
}

/**
 * The owner lists, downloads (Range, ETag; S3: a presigned redirect) and deletes a deployment's artifacts.
 * Mounted behind the app's API key middleware on /v1/deployments and the admin one on /v1/admin
 * (admins and operators read any deployment's list); without them req.user is unset and every route is 401.
 */
export function artifactRoutes(deps: ArtifactRouteDeps): Router {
  const router = Router();

  router.get("/v1/deployments/:id/artifacts", async (req, res) => {
    const deployment = await getOwnDeployment(deps.prisma, currentUserId(req), String(req.params.id));
    res.json(await listArtifacts(deps.prisma, deployment));
  });

  router.delete("/v1/deployments/:id/artifacts", async (req, res) => {
    const deployment = await getOwnDeployment(deps.prisma, currentUserId(req), String(req.params.id));
    await deleteArtifacts(deps.artifacts, deployment, "owner");
    res.status(204).end();
  });

  router.get("/v1/deployments/:id/artifacts/*path", async (req, res) => {
    const deployment = await getOwnDeployment(deps.prisma, currentUserId(req), String(req.params.id));
    const artifact = await storedArtifact(deps.prisma, deployment.id, pathParam(req));
    await sendArtifact(deps, req, res, artifact);
  });

  router.get("/v1/admin/deployments/:id/artifacts", requireScreenAccess, async (req, res) => {
    res.json(await listArtifacts(deps.prisma, await findDeployment(deps.prisma, String(req.params.id))));
  });

  return router;
}

async function sendArtifact(deps: ArtifactRouteDeps, req: Request, res: Response, artifact: Artifact): Promise<void> {
  const size = Number(artifact.sizeBytes);
  const etag = `"sha256-${artifact.sha256}"`;
  const filename = artifact.path.split("/").at(-1) ?? "artifact";
  res.set({ ETag: etag, "X-Content-SHA256": artifact.sha256, "Cache-Control": "private, no-store" });
  const direct = deps.artifacts.storage.direct;
  if (direct) {
    // the bytes come from the bucket, Range included: nothing passes through this process
    const signed = await direct.presignGet(artifact.storageKey, {
      expiresInSeconds: deps.artifacts.limits.presignSeconds,
      filename,
    });
    res.set("Referrer-Policy", "no-referrer").redirect(302, signed.url);
    return;
  }
  const ifRange = req.get("if-range");
  const range = ifRange === undefined || ifRange === etag ? parseRange(req.get("range"), size) : null;
  if (range === "unsatisfiable") {
    res.set("Content-Range", `bytes */${size}`);
    throw new AppError("RANGE_NOT_SATISFIABLE", `the range is outside the file's ${size} bytes`, {
      details: { sizeBytes: size },
    });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  // opened before the answer's headers are set: a file that cannot be read is a JSON error, not an attachment
  const file =
    req.method === "HEAD" || size === 0 ? null : await deps.artifacts.storage.get(artifact.storageKey, { start, end });
  res.status(range ? 206 : 200).set({
    "Content-Type": "application/octet-stream",
    "Content-Disposition": `attachment; filename="${filename}"`,
    "Content-Length": String(size === 0 ? 0 : end - start + 1),
    "Accept-Ranges": "bytes",
    ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
  });
  if (!file) {
    res.end();
    return;
  }
  pipeline(file.stream, res, (err) => {
    if (err && !res.writableFinished && (err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") {
      deps.logger.error("artifact read failed mid-transfer", {
        err,
        deploymentId: artifact.deploymentId,
        path: artifact.path,
      });
    }
  });
}
