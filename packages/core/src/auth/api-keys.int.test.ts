import { useTestDatabase } from "../../../../test/support/test-db";
import { AppError } from "../errors";
import { ManualClock } from "../time/clock";
import { ApiKeyCache } from "./api-key-cache";
import { authenticateApiKey, createApiKey, createUserWithKey, LAST_USED_RESOLUTION_MS, revokeApiKey } from "./api-keys";
import { sha256Hex } from "./secret";

const db = useTestDatabase();
const clock = new ManualClock();

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof AppError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe("API keys", () => {
  it("creates a user with a key shown once; only the prefix and the hash are stored", async () => {
    const { key, user, apiKey } = await createUserWithKey(db.prisma, { email: " Admin@Example.com ", role: "ADMIN" });
    expect(key).toMatch(/^tp_live_[A-Za-z0-9_-]{43}$/);
    expect(user).toMatchObject({ email: "admin@example.com", role: "ADMIN" });
    expect(apiKey.prefix).toBe(key.slice(0, 12));
    expect(apiKey.keyHash).toBe(sha256Hex(key));
    const dump = JSON.stringify(await db.prisma.$queryRawUnsafe<unknown[]>(`SELECT * FROM "ApiKey"`));
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(key.slice(12));
    expect(await message(createUserWithKey(db.prisma, { email: "admin@example.com" }))).toMatch(/^CONFLICT/);
    expect(await message(createUserWithKey(db.prisma, { email: "not-an-email" }))).toMatch(/^VALIDATION_FAILED/);
  });

  it("authenticates; missing, malformed, unknown and revoked keys get the same UNAUTHORIZED", async () => {
    const { key, user, apiKey } = await createUserWithKey(db.prisma, { email: "u@example.com" });
    const ok = await authenticateApiKey(db.prisma, clock, key);
    expect(ok.user.id).toBe(user.id);
    const second = await createApiKey(db.prisma, user.id, "ci");
    expect((await authenticateApiKey(db.prisma, clock, second.key)).apiKey.id).toBe(second.apiKey.id);
    expect(
      await revokeApiKey(db.prisma, clock, { apiKeyId: apiKey.id, userId: "00000000-0000-4000-8000-000000000000" }),
    ).toBe(false);
    expect(await revokeApiKey(db.prisma, clock, { apiKeyId: apiKey.id, userId: user.id })).toBe(true);
    const answers = await Promise.all(
      [undefined, "", "tp_live_short", `tp_live_${"Z".repeat(43)}`, key].map((k) =>
        message(authenticateApiKey(db.prisma, clock, k)),
      ),
    );
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/^UNAUTHORIZED/);
  });

  it("writes lastUsedAt at most once a minute", async () => {
    const { key, apiKey } = await createUserWithKey(db.prisma, { email: "busy@example.com" });
    const t0 = clock.now();
    await authenticateApiKey(db.prisma, clock, key);
    const lastUsed = async () =>
      (await db.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt?.getTime();
    expect(await lastUsed()).toBe(t0.getTime());
    clock.advance(LAST_USED_RESOLUTION_MS - 1);
    await Promise.all(Array.from({ length: 5 }, () => authenticateApiKey(db.prisma, clock, key)));
    expect(await lastUsed()).toBe(t0.getTime());
    clock.advance(1);
    await authenticateApiKey(db.prisma, clock, key);
    expect(await lastUsed()).toBe(t0.getTime() + LAST_USED_RESOLUTION_MS);
  });
});

describe("ApiKeyCache", () => {
  it("trusts a successful lookup for ttlMs: a revoked key is refused once it expires; failures are not cached", async () => {
    const cacheClock = new ManualClock();
    const cache = new ApiKeyCache(db.prisma, cacheClock, { ttlMs: 1000 });
    const { key, user, apiKey } = await createUserWithKey(db.prisma, { email: "cached@example.com" });
    expect((await cache.authenticate(key)).user.id).toBe(user.id);
    await revokeApiKey(db.prisma, cacheClock, { apiKeyId: apiKey.id });
    cacheClock.advance(999);
    expect((await cache.authenticate(key)).apiKey.id).toBe(apiKey.id);
    cacheClock.advance(1);
    expect(await message(cache.authenticate(key))).toMatch(/^UNAUTHORIZED/);
    // a failed lookup is not remembered: the revoked key keeps failing, a key made now works at once
    expect(await message(cache.authenticate(key))).toMatch(/^UNAUTHORIZED/);
    const fresh = await createApiKey(db.prisma, user.id, "new");
    expect((await cache.authenticate(fresh.key)).apiKey.id).toBe(fresh.apiKey.id);
  });

  it("with ttlMs 0 every call looks the key up (revocation is immediate)", async () => {
    const cache = new ApiKeyCache(db.prisma, clock, { ttlMs: 0 });
    const { key, apiKey } = await createUserWithKey(db.prisma, { email: "uncached@example.com" });
    await cache.authenticate(key);
    await revokeApiKey(db.prisma, clock, { apiKeyId: apiKey.id });
    expect(await message(cache.authenticate(key))).toMatch(/^UNAUTHORIZED/);
  });

  it("keeps at most maxEntries, dropping the oldest", async () => {
    const cache = new ApiKeyCache(db.prisma, clock, { ttlMs: 60_000, maxEntries: 1 });
    const a = await createUserWithKey(db.prisma, { email: "a-cap@example.com" });
    const b = await createUserWithKey(db.prisma, { email: "b-cap@example.com" });
    await cache.authenticate(a.key);
    await cache.authenticate(b.key);
    await revokeApiKey(db.prisma, clock, { apiKeyId: a.apiKey.id });
    await revokeApiKey(db.prisma, clock, { apiKeyId: b.apiKey.id });
    expect(await message(cache.authenticate(a.key))).toMatch(/^UNAUTHORIZED/); // dropped: looked up again
    expect((await cache.authenticate(b.key)).apiKey.id).toBe(b.apiKey.id); // still cached
  });
});
