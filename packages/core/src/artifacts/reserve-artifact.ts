import { z } from "zod";
import { AppError } from "../errors";
import type { Artifact, PrismaClient } from "../db";
import { artifactPath, artifactStorageKey } from "./artifact-path";
import type { ArtifactDeps, UploadPlan } from "./deps";

export const artifactDeclarationSchema = z.object({
  path: z.string().min(1).max(2000),
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex characters"),
});
export type ArtifactDeclaration = z.infer<typeof artifactDeclarationSchema>;

/**
 * The pod declares a file (path, size, sha256) before sending it. Checked against the per-file and the
 * per-deployment quota under a lock on the deployment row, so two uploads at once cannot both take the last
 * bytes; recorded UPLOADING. The same file stored already answers `stored` (a retried upload is a no-op).
 */
export async function reserveArtifact(deps: ArtifactDeps, deploymentId: string, body: unknown): Promise<UploadPlan> {
  const input = artifactDeclarationSchema.parse(body);
  const path = artifactPath(input.path);
  const { maxFileBytes, maxTotalBytes } = deps.limits;
  if (input.sizeBytes > maxFileBytes) {
    throw new AppError("PAYLOAD_TOO_LARGE", `${path} is larger than the limit of ${maxFileBytes} bytes a file`, {
      details: { maxBytes: maxFileBytes, sizeBytes: input.sizeBytes },
    });
  }
  const key = artifactStorageKey(deploymentId, path);
  const outcome = await deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Deployment" WHERE id = ${deploymentId}::uuid FOR UPDATE`;
    const existing = await tx.artifact.findUnique({ where: { deploymentId_path: { deploymentId, path } } });
    if (
      existing?.status === "STORED" &&
      existing.sizeBytes === BigInt(input.sizeBytes) &&
      existing.sha256 === input.sha256
    ) {
      return { stored: true as const };
    }
    const others = await tx.artifact.aggregate({ where: { deploymentId, NOT: { path } }, _sum: { sizeBytes: true } });
    const used = Number(others._sum.sizeBytes ?? 0n);
    if (used + input.sizeBytes > maxTotalBytes) {
      throw new AppError(
        "ARTIFACT_QUOTA_EXCEEDED",
        `${path} would take this deployment's artifacts over ${maxTotalBytes} bytes (${used} used)`,
        {
          details: { maxTotalBytes, usedBytes: used, sizeBytes: input.sizeBytes },
        },
      );
    }
    // createdAt: when this declaration was made (the abandoned-upload sweep reads it), by the injectable clock
    const fields = {
      storageKey: key,
      sizeBytes: BigInt(input.sizeBytes),
      sha256: input.sha256,
      status: "UPLOADING" as const,
      uploadId: null,
      partSizeBytes: null,
      uploadedAt: null,
      createdAt: deps.clock.now(),
    };
    await tx.artifact.upsert({
      where: { deploymentId_path: { deploymentId, path } },
      create: { deploymentId, path, ...fields },
      update: fields,
    });
    return { stored: false as const, abandonedUpload: existing?.uploadId ?? null };
  });
  if (outcome.stored) return { path, mode: "stored", partSizeBytes: 0, partCount: 0 };
  const direct = deps.storage.direct;
  if (outcome.abandonedUpload && direct)
    await direct.abortMultipartUpload(key, outcome.abandonedUpload).catch(() => undefined);
  if (!direct) return { path, mode: "api", partSizeBytes: input.sizeBytes, partCount: 1 };
  const partSize = deps.limits.partSizeBytes;
  if (input.sizeBytes <= partSize) return { path, mode: "s3", partSizeBytes: input.sizeBytes, partCount: 1 };
  const uploadId = await direct.createMultipartUpload(key);
  const { count } = await deps.prisma.artifact.updateMany({
    where: { deploymentId, path, status: "UPLOADING", sha256: input.sha256, uploadId: null },
    data: { uploadId, partSizeBytes: BigInt(partSize) },
  });
  if (count !== 1) {
    await direct.abortMultipartUpload(key, uploadId).catch(() => undefined);
    throw new AppError("CONFLICT", `${path} was declared again meanwhile; declare it once`, { retryable: true });
  }
  return { path, mode: "s3-multipart", partSizeBytes: partSize, partCount: Math.ceil(input.sizeBytes / partSize) };
}

/** The file's row while its bytes are on their way; CONFLICT when it was not declared (or is stored). */
export async function uploadingArtifact(prisma: PrismaClient, deploymentId: string, path: string): Promise<Artifact> {
  const row = await prisma.artifact.findUnique({
    where: { deploymentId_path: { deploymentId, path: artifactPath(path) } },
  });
  if (!row || row.status !== "UPLOADING") {
    throw new AppError("CONFLICT", `no upload of ${path} in progress: declare it first (POST /v1/runs/:id/artifacts)`);
  }
  return row;
}
