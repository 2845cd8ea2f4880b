import type { PrismaClient } from "../db";
import { isAppError } from "../errors";
import type { SecretsKeyring } from "../secrets/keyring";
import { secretsForPod } from "../secrets/secret-store";
import { HF_TOKEN_SECRET, type ModelPreflightDeps } from "./model-preflight";

/**
 * The model pre-flight's `hubTokenFor`: the user's HF_TOKEN secret, decrypted, when the request names it; undefined
 * when the user has not set it (the secrets pre-flight reports SECRET_NOT_FOUND for that). The value lives only in
 * this request's memory: it is never logged, cached (the hub cache keys by its hash) or answered.
 */
export function hubTokenFromSecrets(prisma: PrismaClient, keyring: SecretsKeyring): ModelPreflightDeps["hubTokenFor"] {
  return async (userId, secretNames) => {
    if (!secretNames.includes(HF_TOKEN_SECRET)) return undefined;
    try {
      const env = await secretsForPod(prisma, keyring, userId, [HF_TOKEN_SECRET]);
      return env[HF_TOKEN_SECRET];
    } catch (err) {
      if (isAppError(err) && err.code === "NOT_FOUND") return undefined;
      throw err;
    }
  };
}
