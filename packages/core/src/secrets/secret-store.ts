import type { PrismaClient } from "../db";
import { AppError } from "../errors";
import { systemClock, type Clock } from "../time/clock";
import { openSecret, sealSecret } from "./cipher";
import type { SecretsKeyring } from "./keyring";
import { resealRows } from "./reseal";
import { assertSecretNameAllowed, secretInputSchema } from "./secret-names";

/** What a user sees of a secret: never its value. */
export interface SecretView {
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface SecretDeps {
  prisma: PrismaClient;
  keyring: SecretsKeyring;
  clock?: Clock;
}

/**
 * Stores (or replaces) one of the user's secrets, encrypted under the keyring's current key. One statement; answers
 * the secret's view and whether it was new. 400 for a malformed body, 422 for a name the pod itself uses.
 */
export async function setSecret(
  deps: SecretDeps,
  userId: string,
  body: unknown,
): Promise<{ secret: SecretView; created: boolean }> {
  const input = secretInputSchema.parse(body);
  assertSecretNameAllowed(input.name);
  const sealed = sealSecret(deps.keyring, { userId, name: input.name }, input.value);
  const now = (deps.clock ?? systemClock).now();
  const rows = await deps.prisma.$queryRaw<Array<SecretView & { created: boolean }>>`
    INSERT INTO "UserSecret" ("id", "userId", "name", "keyId", "iv", "ciphertext", "authTag", "createdAt", "updatedAt")
    VALUES (gen_random_uuid(), ${userId}::uuid, ${input.name}, ${sealed.keyId}, ${Buffer.from(sealed.iv)},
      ${Buffer.from(sealed.ciphertext)}, ${Buffer.from(sealed.authTag)}, ${now}, ${now})
    ON CONFLICT ("userId", "name") DO UPDATE SET "keyId" = EXCLUDED."keyId", "iv" = EXCLUDED."iv",
      "ciphertext" = EXCLUDED."ciphertext", "authTag" = EXCLUDED."authTag", "updatedAt" = EXCLUDED."updatedAt"
    RETURNING "name", "createdAt", "updatedAt", (xmax = 0) AS created`;
  const row = rows[0];
  if (!row) throw new AppError("INTERNAL", "the secret was not stored");
  const { created, ...secret } = row;
  return { secret, created };
}

/** The user's secrets by name: names and dates only. */
export function listSecrets(prisma: PrismaClient, userId: string): Promise<SecretView[]> {
  return prisma.userSecret.findMany({
    where: { userId },
    select: { name: true, createdAt: true, updatedAt: true },
    orderBy: { name: "asc" },
  });
}

/** Deletes one of the user's secrets; 404 when there is none of that name. */
export async function deleteSecret(prisma: PrismaClient, userId: string, name: string): Promise<void> {
  const { count } = await prisma.userSecret.deleteMany({ where: { userId, name } });
  if (count === 0) throw new AppError("NOT_FOUND", `no secret named ${JSON.stringify(name.slice(0, 64))}`);
}

/** Of `names`, those the user has not set (in the order given). One query; none for an empty list. */
export async function missingSecrets(
  prisma: PrismaClient,
  userId: string,
  names: readonly string[],
): Promise<string[]> {
  if (names.length === 0) return [];
  const found = await prisma.userSecret.findMany({
    where: { userId, name: { in: [...names] } },
    select: { name: true },
  });
  const have = new Set(found.map((s) => s.name));
  return names.filter((n) => !have.has(n));
}

/**
 * The named secrets of a user, decrypted, for one pod launch (its env). A name the user no longer has (deleted after
 * the submission) is a final error naming it; nothing is decrypted before every name is found.
 */
export async function secretsForPod(
  prisma: PrismaClient,
  keyring: SecretsKeyring,
  userId: string,
  names: readonly string[],
): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const rows = await prisma.userSecret.findMany({ where: { userId, name: { in: [...names] } } });
  const byName = new Map(rows.map((r) => [r.name, r]));
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0)
    throw new AppError(
      "NOT_FOUND",
      `the deployment's secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "were" : "was"} deleted after it was submitted: set ${missing.length > 1 ? "them" : "it"} again (POST /v1/secrets) and submit again`,
      { retryable: false, details: { missingSecrets: missing } },
    );
  const env: Record<string, string> = {};
  for (const name of names) {
    const row = byName.get(name);
    if (row) env[name] = openSecret(keyring, { userId, name }, row);
  }
  return env;
}

/**
 * At a worker's start: every stored secret's key id must be in the keyring (users' secrets and webhook endpoints'
 * signing secrets alike), so a key dropped from SECRETS_KEYS too soon (or a missing SECRETS_KEY while secrets are
 * stored) stops the process with a clear error, not a failed launch or an unsigned delivery. One query.
 */
export async function assertStoredSecretKeys(prisma: PrismaClient, keyring: SecretsKeyring): Promise<void> {
  const rows = await prisma.$queryRaw<Array<{ keyId: string; users: bigint; hooks: bigint }>>`
    SELECT "keyId", sum("users")::bigint AS "users", sum("hooks")::bigint AS "hooks" FROM (
      SELECT "keyId", count(*) AS "users", 0 AS "hooks" FROM "UserSecret" GROUP BY "keyId"
      UNION ALL SELECT "keyId", 0, count(*) FROM "WebhookEndpoint" GROUP BY "keyId"
    ) AS stored GROUP BY "keyId" ORDER BY "keyId"`;
  const lacking = rows.filter((r) => !keyring.keys.has(r.keyId));
  if (lacking.length === 0) return;
  const counts = (r: { users: bigint; hooks: bigint }) =>
    [r.users > 0n ? `${r.users} secrets` : "", r.hooks > 0n ? `${r.hooks} webhook signing secrets` : ""]
      .filter(Boolean)
      .join(", ");
  const list = lacking.map((r) => `"${r.keyId}" (${counts(r)})`).join(", ");
  const hint =
    keyring.source === "none"
      ? "SECRETS_KEY is not set"
      : "SECRETS_KEY / SECRETS_KEYS does not hold them (keep an old key in SECRETS_KEYS until `npm run secrets:rotate` has run)";
  throw new AppError(
    "CONFIG_INVALID",
    `invalid configuration:\n  - secrets are stored under key ids ${list}, but ${hint}`,
  );
}

/**
 * Re-encrypts every secret not under the current key (after SECRETS_KEYS put a new key first). A row changed
 * meanwhile is read again (a user's set meanwhile wins, and is re-sealed if need be). Answers how many.
 */
export async function reencryptSecrets(deps: SecretDeps, batch = 500): Promise<number> {
  return resealRows(
    deps.keyring,
    {
      find: (current, _skipped, take) => deps.prisma.userSecret.findMany({ where: { keyId: { not: current } }, take }),
      reseal: (row) => {
        const owner = { userId: row.userId, name: row.name };
        return sealSecret(deps.keyring, owner, openSecret(deps.keyring, owner, row));
      },
      update: (where, data) => deps.prisma.userSecret.updateMany({ where, data }),
    },
    batch,
  );
}
