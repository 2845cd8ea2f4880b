import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { decideInRedis, learnInRedis, peekInRedis } from "./rate-budget-lua";
import type { CallPriority, QuotaAnswer } from "./http";
import { PollingRateBudget, hasNews, toBudgetAnswer, type RateBudgetOptions } from "./rate-budget-polling";
import { decide, learn, type BudgetState, type Decision } from "./rate-budget-state";

/**
 * RunPod's rate limit is per account, over minute, hour and day windows, and every process and
 * replica of trainpod spends the same one. A budget per process (the old token bucket) lets N
 * workers send N times the quota, and the 429s then land on terminations as much as on creates.
 *
 * So the budget lives in Redis, one key per account, and mirrors the server: it learns each
 * window's quota and RunPod's own remaining count and reset from every answer, counts the calls
 * every process started since, and lets a call start only while every window has room, keeping
 * a reserve for the urgent calls that stop billing. See rate-budget-state.ts for the rules.
 */

export {
  parseRateLimit,
  parseRateLimitPolicy,
  type RateLimitPolicyWindow,
  type RateLimitWindow,
} from "./rate-budget-headers";
export { abortableSleep, type RateBudget, type RateBudgetOptions } from "./rate-budget-polling";
export { DEFAULT_BUDGET_RULES, type BudgetRules, type BudgetState, type WindowState } from "./rate-budget-state";

/** The budget in this process only: for a client used without Redis (the CLI, tests). */
export class LocalRateBudget extends PollingRateBudget {
  private state: BudgetState | null = null;

  constructor(options: RateBudgetOptions = {}) {
    super(options);
  }

  async tryAcquire(priority: CallPriority): Promise<Decision> {
    const { decision, state } = decide(this.state, this.now(), priority, this.rules);
    this.state = state;
    return decision;
  }

  async observe(answer: QuotaAnswer): Promise<void> {
    const parsed = toBudgetAnswer(answer);
    if (hasNews(parsed)) this.state = learn(this.state, this.now(), parsed, this.rules);
  }

  /** The state as it stands (null before the first call or answer). */
  snapshot(): BudgetState | null {
    return this.state;
  }
}

/** A short, stable name for the account behind an API key: the key itself is never stored. */
export function accountIdOf(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
}

export function rateBudgetKey(prefix: string, accountId: string): string {
  return `${prefix}runpod:budget:${accountId}`;
}

export interface RedisRateBudgetOptions extends RateBudgetOptions {
  /**
   * A connection of the process's own. Give it a bounded `maxRetriesPerRequest`: with null
   * (BullMQ workers') a call waits for Redis to come back, as long as the caller's signal lets it.
   */
  redis: Redis;
  /** the RunPod API key whose account this budget paces; only accountIdOf(apiKey) is kept */
  apiKey: string;
  /** key prefix, e.g. `{trainpod}:` (default none) */
  prefix?: string;
}

/**
 * The budget of one RunPod account, shared through Redis by every process that uses the key.
 * Each look and each answer is one Lua script (read, decide, write, atomically), decided by
 * Redis' clock so that hosts whose clocks disagree still agree on the windows. The key expires
 * three windows after its last change: by then every window has started again, and a lost key
 * only means starting over from the default policy.
 */
export class RedisRateBudget extends PollingRateBudget {
  /** `${prefix}runpod:budget:${accountId}` */
  readonly key: string;
  private readonly redis: Redis;
  /** undefined: Redis' clock */
  private readonly decisionClock: (() => number) | undefined;

  constructor(options: RedisRateBudgetOptions) {
    super(options);
    this.redis = options.redis;
    this.key = rateBudgetKey(options.prefix ?? "", accountIdOf(options.apiKey));
    this.decisionClock = options.now;
  }

  async tryAcquire(priority: CallPriority): Promise<Decision> {
    return (await decideInRedis(this.redis, this.key, this.decisionClock?.(), priority, this.rules)).decision;
  }

  async observe(answer: QuotaAnswer): Promise<void> {
    const parsed = toBudgetAnswer(answer);
    if (hasNews(parsed)) await learnInRedis(this.redis, this.key, this.decisionClock?.(), parsed, this.rules);
  }

  /** The account's state as stored (windows rolled to now), or null when there is none. */
  snapshot(): Promise<BudgetState | null> {
    return peekInRedis(this.redis, this.key, this.decisionClock?.(), this.rules);
  }
}
