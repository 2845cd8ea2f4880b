import type { PrismaClient } from "../db";
import type { Clock } from "../time/clock";
import type { EffectiveLimits, SpendSettings } from "./settings";
import { effectiveLimits } from "./user-limits";

export interface UserLimitsCacheOptions {
  /** how long a read is trusted (USER_LIMITS_CACHE_TTL_MS); 0 disables the cache */
  ttlMs: number;
  /** entries kept at most (oldest dropped first) */
  maxEntries?: number;
}

/**
 * Every submission needs its user's limits (images, GPU count, budget) and reading them is one Postgres round trip,
 * half of a submission without a budget. Like the API-key cache (auth/api-key-cache.ts) this keeps each user's
 * limits per process for `ttlMs`; the admin route that changes a user's limits drops that user's entry, so the
 * change applies at once in the process that made it and within `ttlMs` in the others. Slot claims and the
 * budget stop rule (the worker) read the table itself.
 */
export class UserLimitsCache {
  /** a read in flight is shared: when an entry expires under load, the requests waiting on it make one read */
  private readonly entries = new Map<string, { until: number; value: Promise<EffectiveLimits> }>();
  private readonly maxEntries: number;

  constructor(
    private readonly prisma: Pick<PrismaClient, "userLimits">,
    readonly settings: SpendSettings,
    private readonly clock: Clock,
    private readonly options: UserLimitsCacheOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  get(userId: string): Promise<EffectiveLimits> {
    if (this.options.ttlMs <= 0) return effectiveLimits(this.prisma, this.settings, userId);
    const now = this.clock.now().getTime();
    const hit = this.entries.get(userId);
    if (hit && hit.until > now) return hit.value;
    this.entries.delete(userId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const value = effectiveLimits(this.prisma, this.settings, userId);
    const entry = { until: now + this.options.ttlMs, value };
    this.entries.set(userId, entry);
    // a failed read is not kept (unless a drop or a later read replaced it already)
    value.catch(() => this.entries.get(userId) === entry && this.entries.delete(userId));
    return value;
  }

  /** An admin changed this user's limits: the next read goes to the table (one in flight is answered, not kept). */
  drop(userId: string): void {
    this.entries.delete(userId);
  }
}
