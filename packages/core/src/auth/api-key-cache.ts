import type { PrismaClient } from "../db";
import type { Clock } from "../time/clock";
import { authenticateApiKey, type Authenticated } from "./api-keys";

export interface ApiKeyCacheOptions {
  /** how long a successful lookup is trusted; 0 disables the cache */
  ttlMs: number;
  /** entries kept at most (oldest dropped first) */
  maxEntries?: number;
}

/**
 * Every authenticated request needs its key's user; looking it up is one Postgres round trip, a
 * third of a submission's cost. This keeps SUCCESSFUL lookups for `ttlMs` (per process, keyed by
 * the key itself, never logged), so a revoked key is refused at most `ttlMs` after revocation.
 * Failed lookups are never cached: a new key works at once, a wrong one always costs a lookup.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { until: number; value: Authenticated }>();
  private readonly maxEntries: number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
    private readonly options: ApiKeyCacheOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  async authenticate(key: string | undefined | null): Promise<Authenticated> {
    if (this.options.ttlMs <= 0 || !key) return authenticateApiKey(this.prisma, this.clock, key);
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    this.entries.delete(key);
    const value = await authenticateApiKey(this.prisma, this.clock, key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { until: now + this.options.ttlMs, value });
    return value;
  }
}
