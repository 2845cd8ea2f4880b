import { AppError } from "../errors";
import { Prisma, type ApiKey, type PrismaClient, type User, type UserRole } from "../db";
import type { Clock } from "../time/clock";
import { hasSecretShape, newSecret, sha256Hex } from "./secret";

export const API_KEY_PREFIX = "tp_live_";
/** how many leading characters of a key are stored, to tell keys apart */
export const API_KEY_DISPLAY_PREFIX_LENGTH = 12;
/** lastUsedAt is written at most this often per key */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** The one answer for a missing, unknown or revoked key: it does not say which. */
const UNAUTHORIZED_MESSAGE = "a valid API key is required (Authorization: Bearer tp_live_...)";

export interface CreatedApiKey {
  /** the plaintext key: shown once, never stored */
  key: string;
  apiKey: ApiKey;
}

export interface CreatedUser extends CreatedApiKey {
  user: User;
}

export interface Authenticated {
  user: User;
  apiKey: ApiKey;
}

function newApiKey(): { key: string; prefix: string; keyHash: string } {
  const key = newSecret(API_KEY_PREFIX);
  return { key, prefix: key.slice(0, API_KEY_DISPLAY_PREFIX_LENGTH), keyHash: sha256Hex(key) };
}

/** Adds a key to an existing user. The plaintext is returned here and nowhere else. */
export async function createApiKey(prisma: PrismaClient, userId: string, name?: string): Promise<CreatedApiKey> {
  const { key, prefix, keyHash } = newApiKey();
  const apiKey = await prisma.apiKey.create({ data: { userId, name: name ?? null, prefix, keyHash } });
  return { key, apiKey };
}

/** Creates a user and their first API key in one transaction. An email already taken is a CONFLICT. */
export async function createUserWithKey(
  prisma: PrismaClient,
  input: { email: string; role?: UserRole; keyName?: string },
): Promise<CreatedUser> {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) {
    throw new AppError("VALIDATION_FAILED", "email is not a valid address");
  }
  const { key, prefix, keyHash } = newApiKey();
  try {
    const user = await prisma.user.create({
      data: {
        email,
        role: input.role ?? "USER",
        apiKeys: { create: { name: input.keyName ?? null, prefix, keyHash } },
      },
      include: { apiKeys: true },
    });
    const { apiKeys, ...plain } = user;
    const apiKey = apiKeys[0];
    if (!apiKey) throw new AppError("INTERNAL", "api key was not created");
    return { key, user: plain, apiKey };
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
      throw new AppError("CONFLICT", "a user with this email already exists");
    }
    throw err;
  }
}

interface KeyRow {
  id: string;
  userId: string;
  name: string | null;
  prefix: string;
  keyHash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  email: string;
  role: UserRole;
  userCreatedAt: Date;
}

/** A live (not revoked) key and its user in one statement: every authenticated request runs this. */
async function findLiveKey(prisma: PrismaClient, keyHash: string): Promise<Authenticated | null> {
  const rows = await prisma.$queryRaw<KeyRow[]>(Prisma.sql`
    SELECT k."id", k."userId", k."name", k."prefix", k."keyHash", k."createdAt", k."lastUsedAt", k."revokedAt",
           u."email", u."role"::text AS "role", u."createdAt" AS "userCreatedAt"
    FROM "ApiKey" k JOIN "User" u ON u."id" = k."userId"
    WHERE k."keyHash" = ${keyHash} AND k."revokedAt" IS NULL`);
  const row = rows[0];
  if (!row) return null;
  const { email, role, userCreatedAt, ...apiKey } = row;
  return { user: { id: row.userId, email, role, createdAt: userCreatedAt }, apiKey };
}

/**
 * Resolves a presented key to its user. Missing, malformed, unknown and revoked keys all get the
 * same UNAUTHORIZED. lastUsedAt is refreshed at most once a minute, by one conditional UPDATE.
 */
export async function authenticateApiKey(
  prisma: PrismaClient,
  clock: Clock,
  key: string | undefined | null,
): Promise<Authenticated> {
  if (!key || !hasSecretShape(key, API_KEY_PREFIX)) throw new AppError("UNAUTHORIZED", UNAUTHORIZED_MESSAGE);
  const found = await findLiveKey(prisma, sha256Hex(key));
  if (!found) throw new AppError("UNAUTHORIZED", UNAUTHORIZED_MESSAGE);
  const now = clock.now();
  const { user, apiKey } = found;
  if (apiKey.lastUsedAt === null || now.getTime() - apiKey.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    await prisma.apiKey.updateMany({
      where: { id: apiKey.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: stale } }] },
      data: { lastUsedAt: now },
    });
    apiKey.lastUsedAt = now;
  }
  return { user, apiKey };
}

/** Revokes a key (of `userId`, when given). Answers whether a live key was revoked. */
export async function revokeApiKey(
  prisma: PrismaClient,
  clock: Clock,
  input: { apiKeyId: string; userId?: string },
): Promise<boolean> {
  const res = await prisma.apiKey.updateMany({
    where: { id: input.apiKeyId, revokedAt: null, ...(input.userId ? { userId: input.userId } : {}) },
    data: { revokedAt: clock.now() },
  });
  return res.count === 1;
}
