import type { Readable } from "node:stream";
import { z } from "zod";
import { AppError } from "../errors";
import type { Artifact } from "../db";
import type { PresignedRequest } from "../storage";
import { artifactPath } from "./artifact-path";
import type { ArtifactDeps, ArtifactFile } from "./deps";
import { uploadingArtifact } from "./reserve-artifact";
import { uploadUrlSeconds } from "./upload-url-validity";

function fileOf(row: Artifact): ArtifactFile {
  return { path: row.path, sizeBytes: Number(row.sizeBytes), sha256: row.sha256 };
}

/** UPLOADING → STORED, only if the row is still the one that was checked (a re-declaration wins). */
async function markStored(deps: ArtifactDeps, row: Artifact): Promise<void> {
  const { count } = await deps.prisma.artifact.updateMany({
    where: { id: row.id, status: "UPLOADING", sha256: row.sha256, sizeBytes: row.sizeBytes },
    data: { status: "STORED", uploadedAt: deps.clock.now(), uploadId: null },
  });
  if (count !== 1)
    throw new AppError("CONFLICT", `${row.path} was declared again during its upload; upload it again`, {
      retryable: true,
    });
}

/**
 * `mode: "api"`: the bytes come through the API. At most the declared size is read; a different size or
 * sha256 deletes what was written and answers CHECKSUM_MISMATCH.
 */
export async function storeArtifactThroughApi(
  deps: ArtifactDeps,
  deploymentId: string,
  path: string,
  body: Readable,
): Promise<ArtifactFile> {
  const row = await uploadingArtifact(deps.prisma, deploymentId, path);
  if (row.uploadId) throw new AppError("CONFLICT", `${row.path} goes up in parts to the bucket, not through the API`);
  const declared = Number(row.sizeBytes);
  const stored = await deps.storage.put(row.storageKey, body, { maxBytes: declared }).catch((err: unknown) => {
    if (err instanceof AppError && err.code === "PAYLOAD_TOO_LARGE") {
      throw new AppError(
        "CHECKSUM_MISMATCH",
        `${row.path} is larger than its declared ${declared} bytes; nothing was kept`,
        { details: { expectedBytes: declared } },
      );
    }
    throw err;
  });
  if (stored.sizeBytes !== declared || stored.sha256 !== row.sha256) {
    await deps.storage.delete(row.storageKey);
    throw new AppError("CHECKSUM_MISMATCH", `${row.path} does not match its declaration; nothing was kept`, {
      details: {
        expected: { sizeBytes: declared, sha256: row.sha256 },
        received: { sizeBytes: stored.sizeBytes, sha256: stored.sha256 },
      },
    });
  }
  await markStored(deps, row);
  return fileOf(row);
}

export const uploadUrlRequestSchema = z.object({
  path: z.string().min(1).max(2000),
  partNumber: z.number().int().min(1).max(10_000).optional(),
  /** the part's sha256 (hex): required for a part, the store refuses other bytes */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

/**
 * A presigned PUT for the declared file, or for one of its parts; asked just before each PUT. Valid for as long
 * as its bytes take at the slowest supported uplink, plus S3_PRESIGN_SECONDS (upload-url-validity.ts).
 */
export async function artifactUploadUrl(
  deps: ArtifactDeps,
  deploymentId: string,
  body: unknown,
): Promise<PresignedRequest> {
  const input = uploadUrlRequestSchema.parse(body);
  const direct = deps.storage.direct;
  if (!direct) throw new AppError("CONFLICT", "this storage takes uploads through the API (mode api)");
  const row = await uploadingArtifact(deps.prisma, deploymentId, input.path);
  const validFor = (bytes: number) => ({ expiresInSeconds: uploadUrlSeconds(bytes, deps.limits.presignSeconds) });
  const size = Number(row.sizeBytes);
  if (!row.uploadId)
    return direct.presignPut(row.storageKey, { ...validFor(size), sizeBytes: size, sha256: row.sha256 });
  const partSize = Number(row.partSizeBytes ?? 0n);
  const partCount = Math.ceil(size / partSize);
  if (input.partNumber === undefined || input.partNumber > partCount || input.sha256 === undefined) {
    throw new AppError(
      "VALIDATION_FAILED",
      `${row.path} goes up in ${partCount} parts: give partNumber (1-${partCount}) and the part's sha256`,
    );
  }
  const partBytes = input.partNumber < partCount ? partSize : size - partSize * (partCount - 1);
  return direct.presignPart(
    row.storageKey,
    row.uploadId,
    { partNumber: input.partNumber, sizeBytes: partBytes, sha256: input.sha256 },
    validFor(partBytes),
  );
}

export const completeRequestSchema = z.object({
  path: z.string().min(1).max(2000),
  /** each part's ETag (the PUT's answer) and sha256 (hex: the bucket checks it against what it stored) */
  parts: z
    .array(
      z.object({
        partNumber: z.number().int().min(1).max(10_000),
        etag: z.string().min(1).max(200),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    )
    .max(10_000)
    .optional(),
});

/**
 * The pod's bytes are in the bucket: assemble the parts, check the object's size (the store checked the
 * sha256 of the single PUT or of each part) and record the file. A wrong object is deleted.
 */
export async function completeArtifact(deps: ArtifactDeps, deploymentId: string, body: unknown): Promise<ArtifactFile> {
  const input = completeRequestSchema.parse(body);
  const direct = deps.storage.direct;
  if (!direct) throw new AppError("CONFLICT", "this storage takes uploads through the API (mode api)");
  const stored = await deps.prisma.artifact.findUnique({
    where: { deploymentId_path: { deploymentId, path: artifactPath(input.path) } },
  });
  if (stored?.status === "STORED") return fileOf(stored); // a retried complete
  const row = await uploadingArtifact(deps.prisma, deploymentId, input.path);
  if (row.uploadId) {
    const partCount = Math.ceil(Number(row.sizeBytes) / Number(row.partSizeBytes ?? 1n));
    const parts = [...(input.parts ?? [])].sort((a, b) => a.partNumber - b.partNumber);
    if (parts.length !== partCount || parts.some((p, i) => p.partNumber !== i + 1)) {
      throw new AppError("VALIDATION_FAILED", `${row.path}: give the ETag of each of its ${partCount} parts`);
    }
    await direct.completeMultipartUpload(row.storageKey, row.uploadId, parts).catch((err: unknown) => {
      throw new AppError(
        "UNPROCESSABLE",
        `${row.path}: the bucket refused to assemble the parts: ${(err as Error).message}`,
        { cause: err },
      );
    });
  }
  const stat = await deps.storage.stat(row.storageKey);
  if (!stat) throw new AppError("CONFLICT", `${row.path} is not in the bucket yet: PUT it first`);
  if (stat.sizeBytes !== Number(row.sizeBytes)) {
    await deps.storage.delete(row.storageKey);
    throw new AppError(
      "CHECKSUM_MISMATCH",
      `${row.path} has ${stat.sizeBytes} bytes in the bucket, ${row.sizeBytes} declared; deleted`,
      {
        details: { expectedBytes: Number(row.sizeBytes), receivedBytes: stat.sizeBytes },
      },
    );
  }
  await markStored(deps, row);
  return fileOf(row);
}
