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

/** The tokens one launch put in its pod's env, by their sha256 (how they are stored). */
export interface LaunchTokens {
  runTokenHash: string;
  datasetTokenHash?: string;
}

/**
 * Revokes every live token of a deployment: at termination, once its pod is gone; or, with `keep`, all but the
 * tokens of the launch its recorded pod was started with (no other launch's pod can be adopted any more).
 */
export async function revokeDeploymentTokens(
  prisma: PrismaClient,
  clock: Clock,
  deploymentId: string,
  keep?: LaunchTokens,
): Promise<RevokedTokens> {
  const now = clock.now();
  const notKept = (hash: string | undefined) => (hash === undefined ? {} : { tokenHash: { not: hash } });
  const revoke = [
    prisma.runToken.updateMany({
      where: { deploymentId, revokedAt: null, ...notKept(keep?.runTokenHash) },
      data: { revokedAt: now },
    }),
  ];
  // keeping a launch whose dataset token is not known: no dataset token is revoked (the pod's may be any of them)
  if (keep === undefined || keep.datasetTokenHash !== undefined)
    revoke.push(
      prisma.datasetDownloadToken.updateMany({
        where: { deploymentId, revokedAt: null, usedAt: null, ...notKept(keep?.datasetTokenHash) },
        data: { revokedAt: now },
      }),
    );
  const [run, ds] = await prisma.$transaction(revoke);
  return { datasetTokens: ds?.count ?? 0, runTokens: run?.count ?? 0 };
}
