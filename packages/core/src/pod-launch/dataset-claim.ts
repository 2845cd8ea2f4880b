import { hasSecretShape, sha256Hex } from "../auth/secret";
import { AppError } from "../errors";
import type { PrismaClient } from "../db";
import type { Clock } from "../time/clock";
import { DATASET_TOKEN_PREFIX } from "./token-deps";

/** A claim held while one download streams; release or mark it used when the transfer ends. */
export interface DatasetClaim {
  tokenId: string;
  claimedAt: Date;
  datasetId: string;
  userId: string;
  deploymentId: string | null;
  storageKey: string;
  sizeBytes: number;
  sha256: string;
}

/** A claim older than this (a download whose server died) no longer blocks the token. */
export const CLAIM_STALE_MS = 60 * 60_000;

interface ClaimRow {
  id: string;
  datasetId: string;
  userId: string;
  deploymentId: string | null;
  storageKey: string;
  sizeBytes: bigint;
  sha256: string;
}

/**
 * Claims a download token in one atomic statement: of any number of concurrent requests with the
 * same token, exactly one gets a row. Otherwise a second read says why: TOKEN_INVALID (unknown or
 * malformed), TOKEN_REVOKED, TOKEN_USED (used, or claimed by a download in flight), TOKEN_EXPIRED.
 */
export async function claimDatasetToken(
  prisma: PrismaClient,
  clock: Clock,
  token: string | undefined | null,
): Promise<DatasetClaim> {
  if (!token || !hasSecretShape(token, DATASET_TOKEN_PREFIX))
    throw new AppError("TOKEN_INVALID", "download token is invalid");
  const hash = sha256Hex(token);
  const now = clock.now();
  const stale = new Date(now.getTime() - CLAIM_STALE_MS);
  const rows = await prisma.$queryRaw<ClaimRow[]>`
    WITH claimed AS (
      UPDATE "DatasetDownloadToken" SET "claimedAt" = ${now}
      WHERE "tokenHash" = ${hash}
        AND ("claimedAt" IS NULL OR "claimedAt" < ${stale})
        AND "usedAt" IS NULL AND "revokedAt" IS NULL AND "expiresAt" > ${now}
      RETURNING "id", "datasetId", "userId", "deploymentId"
    )
    SELECT c."id", c."datasetId", c."userId", c."deploymentId", d."storageKey", d."sizeBytes", d."sha256"
    FROM claimed c JOIN "Dataset" d ON d."id" = c."datasetId"`;
  const row = rows[0];
  if (row) {
    return {
      tokenId: row.id,
      claimedAt: now,
      datasetId: row.datasetId,
      userId: row.userId,
      deploymentId: row.deploymentId,
      storageKey: row.storageKey,
      sizeBytes: Number(row.sizeBytes),
      sha256: row.sha256,
    };
  }
  throw await whyNotClaimed(prisma, hash, now);
}

async function whyNotClaimed(prisma: PrismaClient, tokenHash: string, now: Date): Promise<AppError> {
  const t = await prisma.datasetDownloadToken.findUnique({ where: { tokenHash } });
  if (!t) return new AppError("TOKEN_INVALID", "download token is invalid");
  if (t.revokedAt) return new AppError("TOKEN_REVOKED", "download token was revoked");
  if (t.usedAt) return new AppError("TOKEN_USED", "download token was already used");
  if (t.expiresAt.getTime() <= now.getTime()) return new AppError("TOKEN_EXPIRED", "download token has expired");
  if (t.claimedAt) return new AppError("TOKEN_USED", "download token is in use by another download");
  return new AppError("TOKEN_INVALID", "download token is invalid");
}

/** A transfer broke before the end: the token may be claimed again (the pod's curl retries). */
export async function releaseDatasetToken(
  prisma: PrismaClient,
  claim: Pick<DatasetClaim, "tokenId" | "claimedAt">,
): Promise<boolean> {
  const res = await prisma.datasetDownloadToken.updateMany({
    where: { id: claim.tokenId, claimedAt: claim.claimedAt, usedAt: null },
    data: { claimedAt: null },
  });
  return res.count === 1;
}

/** A transfer completed: the token is spent. */
export async function markDatasetTokenUsed(
  prisma: PrismaClient,
  clock: Clock,
  claim: Pick<DatasetClaim, "tokenId">,
): Promise<boolean> {
  const res = await prisma.datasetDownloadToken.updateMany({
    where: { id: claim.tokenId, usedAt: null },
    data: { usedAt: clock.now() },
  });
  return res.count === 1;
}
