import { AppError } from "../errors";
import type { Artifact, Deployment } from "../db";
import { isTerminal, TERMINAL_STATUSES, updateWithEvent } from "../deployment/state-machine";
import type { BlobStorage } from "../storage";
import type { ArtifactDeps } from "./deps";

export type ArtifactDeletion = "owner" | "retention";

export interface DeletedArtifacts {
  files: number;
  bytes: number;
}

/**
 * Deletes every artifact of a closed deployment (objects, then rows) and records it on the deployment
 * (artifactsDeletedAt/Reason) with an `artifacts_deleted` event. A live deployment answers DEPLOYMENT_LIVE:
 * its pod may still be uploading. Deleting again finds nothing and changes nothing.
 */
export async function deleteArtifacts(
  deps: Pick<ArtifactDeps, "prisma" | "clock" | "storage">,
  deployment: Pick<Deployment, "id" | "status">,
  reason: ArtifactDeletion,
): Promise<DeletedArtifacts> {
  if (!isTerminal(deployment.status)) {
    throw new AppError("DEPLOYMENT_LIVE", "the deployment is still live; cancel it or wait for its outcome first", {
      details: { status: deployment.status },
    });
  }
  const rows = await deps.prisma.artifact.findMany({ where: { deploymentId: deployment.id } });
  if (rows.length === 0) return { files: 0, bytes: 0 };
  for (const row of rows) {
    await removeObject(deps.storage, row);
  }
  const stored = rows.filter((r) => r.status === "STORED");
  const result = { files: stored.length, bytes: stored.reduce((sum, r) => sum + Number(r.sizeBytes), 0) };
  await deps.prisma.artifact.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
  const message =
    reason === "retention"
      ? `artifacts deleted after the retention period: ${result.files} files, ${result.bytes} bytes`
      : `artifacts deleted by their owner: ${result.files} files, ${result.bytes} bytes`;
  await updateWithEvent(
    deps.prisma,
    { id: deployment.id },
    { artifactsDeletedAt: deps.clock.now(), artifactsDeletedReason: reason },
    { type: "artifacts_deleted", message, data: { reason, ...result } },
  );
  return result;
}

/**
 * The maintenance job's retention pass: deployments whose files were uploaded more than `days` ago lose them
 * (a batch per call). 0 days keeps everything.
 */
export async function sweepArtifactRetention(
  deps: Pick<ArtifactDeps, "prisma" | "clock" | "storage">,
  days: number,
  batch = 100,
): Promise<DeletedArtifacts & { deployments: number }> {
  const total = { deployments: 0, files: 0, bytes: 0 };
  if (days <= 0) return total;
  const cutoff = new Date(deps.clock.now().getTime() - days * 86_400_000);
  const due = await deps.prisma.artifact.findMany({
    where: {
      status: "STORED",
      uploadedAt: { lt: cutoff },
      deployment: { status: { in: [...TERMINAL_STATUSES] } },
    },
    distinct: ["deploymentId"],
    select: { deployment: { select: { id: true, status: true } } },
    take: batch,
  });
  for (const { deployment } of due) {
    const deleted = await deleteArtifacts(deps, deployment, "retention");
    total.deployments += 1;
    total.files += deleted.files;
    total.bytes += deleted.bytes;
  }
  return total;
}

/**
 * Uploads a pod declared and never finished (it failed, or gave up), on deployments that are closed: their
 * multipart uploads aborted (the bucket keeps parts, and bills them, until then), their partial objects and rows
 * deleted. The maintenance job runs it; `olderThanMs` leaves recent ones alone.
 */
export async function sweepAbandonedUploads(
  deps: Pick<ArtifactDeps, "prisma" | "clock" | "storage">,
  olderThanMs: number,
  batch = 500,
): Promise<number> {
  const rows = await deps.prisma.artifact.findMany({
    where: {
      status: "UPLOADING",
      createdAt: { lt: new Date(deps.clock.now().getTime() - olderThanMs) },
      deployment: { status: { in: [...TERMINAL_STATUSES] } },
    },
    take: batch,
  });
  for (const row of rows) {
    await removeObject(deps.storage, row);
    await deps.prisma.artifact.deleteMany({ where: { id: row.id, status: "UPLOADING" } });
  }
  return rows.length;
}

/** An artifact's bytes gone from the store: its unfinished multipart upload aborted (the bucket bills kept parts), its object deleted. */
async function removeObject(storage: BlobStorage, row: Pick<Artifact, "storageKey" | "uploadId">): Promise<void> {
  if (row.uploadId && storage.direct) await storage.direct.abortMultipartUpload(row.storageKey, row.uploadId);
  await storage.delete(row.storageKey);
}
