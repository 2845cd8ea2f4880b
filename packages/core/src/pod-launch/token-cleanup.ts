import type { PrismaClient } from "../db";
import type { Clock } from "../time/clock";

export interface CleanupResult {
  datasetTokens: number;
  runTokens: number;
}

/**
 * The maintenance job: deletes tokens that can never be used again and ended before `olderThan`
 * (expired, revoked, or — download tokens — used). Rows that ended recently are kept for inspection.
 * `clock` bounds `olderThan` so a caller cannot delete live tokens by passing a future date.
 */
export async function cleanupExpiredTokens(
  prisma: PrismaClient,
  clock: Clock,
  options: { olderThan: Date },
): Promise<CleanupResult> {
  const now = clock.now();
  const before = options.olderThan.getTime() < now.getTime() ? options.olderThan : now;
  const [ds, run] = await prisma.$transaction([
    prisma.datasetDownloadToken.deleteMany({
      where: { OR: [{ expiresAt: { lt: before } }, { revokedAt: { lt: before } }, { usedAt: { lt: before } }] },
    }),
    prisma.runToken.deleteMany({ where: { OR: [{ expiresAt: { lt: before } }, { revokedAt: { lt: before } }] } }),
  ]);
  return { datasetTokens: ds.count, runTokens: run.count };
}
