import { hasSecretShape, sha256Hex } from "../auth/secret";
import { AppError } from "../errors";
import type { PrismaClient } from "../db";
import type { Clock } from "../time/clock";
import { RUN_TOKEN_PREFIX } from "./token-deps";

/**
 * Checks a pod's run token for a deployment. A malformed or unknown token, or one of another
 * deployment, is TOKEN_INVALID; then TOKEN_REVOKED, TOKEN_EXPIRED. All of them answer 401.
 */
export async function verifyRunToken(
  prisma: PrismaClient,
  clock: Clock,
  deploymentId: string,
  token: string | undefined | null,
): Promise<{ tokenId: string; deploymentId: string }> {
  if (!token || !hasSecretShape(token, RUN_TOKEN_PREFIX)) throw new AppError("TOKEN_INVALID", "run token is invalid");
  const t = await prisma.runToken.findUnique({ where: { tokenHash: sha256Hex(token) } });
  if (!t || t.deploymentId !== deploymentId) throw new AppError("TOKEN_INVALID", "run token is invalid");
  if (t.revokedAt) throw new AppError("TOKEN_REVOKED", "run token was revoked");
  if (t.expiresAt.getTime() <= clock.now().getTime()) throw new AppError("TOKEN_EXPIRED", "run token has expired");
  return { tokenId: t.id, deploymentId: t.deploymentId };
}

export interface RevokedTokens {
  datasetTokens: number;
  runTokens: number;
}

/** Revokes every live token of a deployment (at termination, or before minting new ones). */
export async function revokeDeploymentTokens(
  prisma: PrismaClient,
  clock: Clock,
  deploymentId: string,
): Promise<RevokedTokens> {
  const now = clock.now();
  const [ds, run] = await prisma.$transaction([
    prisma.datasetDownloadToken.updateMany({
      where: { deploymentId, revokedAt: null, usedAt: null },
      data: { revokedAt: now },
    }),
    prisma.runToken.updateMany({ where: { deploymentId, revokedAt: null }, data: { revokedAt: now } }),
  ]);
  return { datasetTokens: ds.count, runTokens: run.count };
}
