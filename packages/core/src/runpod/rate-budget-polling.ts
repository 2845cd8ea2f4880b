import type { CallBudget, CallPriority, QuotaAnswer } from "./http";
import { parseRateLimit, parseRateLimitPolicy } from "./rate-budget-headers";
import { DEFAULT_BUDGET_RULES, type BudgetAnswer, type BudgetRules, type Decision } from "./rate-budget-state";

/**
 * The RunPod account's rate budget, as the HTTP layer uses it (CallBudget, http.ts): acquire
 * before each attempt (resolves when a call of that priority may start, and counts it; rejects
 * with `signal.reason` if aborted first), observe every answer. RedisRateBudget is one budget for
 * every process and replica using the account's key; LocalRateBudget the same rules in one process.
 */
export type RateBudget = CallBudget;

export interface RateBudgetOptions {
  /** over DEFAULT_BUDGET_RULES */
  rules?: Partial<BudgetRules>;
  /** once per acquire that had to wait, with the ms it waited (e.g. trainpod_runpod_rate_wait_seconds) */
  onWait?: (ms: number, priority: CallPriority) => void;
  /** the longest single sleep while waiting (default 1000): what other processes learned is seen this soon */
  maxPollMs?: number;
  /** epoch ms. LocalRateBudget decides by it; RedisRateBudget too when given, else by Redis' clock */
  now?: () => number;
  /** must reject with `signal.reason` when the signal aborts (the default does) */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1), for the poll jitter */
  random?: () => number;
}

/** setTimeout as a promise that rejects with the signal's reason when it aborts first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * How long to sleep before asking again: until there may be room, but no longer than `maxPollMs`
 * (an answer seen by another process may change the picture), plus up to a tenth more of jitter
 * so the processes waiting for the same moment do not all ask at once.
 */
export function pollDelayMs(waitMs: number, maxPollMs: number, random: () => number): number {
  const base = Math.min(Math.max(waitMs, 1), maxPollMs);
  return base + Math.floor(random() * (base / 10 + 1));
}

/** An answer's headers parsed; what it does not say is left out. */
export function toBudgetAnswer(answer: QuotaAnswer): BudgetAnswer {
  const limits = parseRateLimit(answer.rateLimit);
  const policy = parseRateLimitPolicy(answer.policy);
  return {
    status: answer.status,
    ...(limits ? { limits } : {}),
    ...(policy ? { policy } : {}),
    ...(answer.retryAfterMs !== undefined ? { retryAfterMs: answer.retryAfterMs } : {}),
  };
}

/** Does this answer teach the budget anything? (An exempt caller's 2xx carries no header.) */
export const hasNews = (a: BudgetAnswer): boolean =>
  a.limits !== undefined || a.policy !== undefined || a.status === 429;

export function resolveRules(partial: Partial<BudgetRules> = {}): BudgetRules {
  const rules = { ...DEFAULT_BUDGET_RULES, ...partial };
  const percent = (v: number): boolean => v >= 0 && v <= 100;
  if (!percent(rules.reservePercent) || !percent(rules.terminationReservePercent) || !percent(rules.spreadPercent))
    throw new RangeError("reservePercent, terminationReservePercent and spreadPercent must be within 0..100");
  if (rules.defaultPolicy.length === 0 || rules.defaultPolicy.some((p) => !(p.q >= 1) || !(p.w > 0))) {
    throw new RangeError("defaultPolicy needs at least one window, each with q >= 1 and w > 0");
  }
  return rules;
}

/** The waiting half of a budget: ask, sleep a little, ask again. Subclasses answer the asking. */
export abstract class PollingRateBudget implements RateBudget {
  protected readonly rules: BudgetRules;
  protected readonly now: () => number;
  private readonly onWait: RateBudgetOptions["onWait"];
  private readonly maxPollMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(options: RateBudgetOptions) {
    this.rules = resolveRules(options.rules);
    this.now = options.now ?? Date.now;
    this.onWait = options.onWait;
    this.maxPollMs = options.maxPollMs ?? 1_000;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
  }

  /** One look: start now (and be counted) or not yet. */
  abstract tryAcquire(priority: CallPriority): Promise<Decision>;

  abstract observe(answer: QuotaAnswer): Promise<void>;

  async acquire(priority: CallPriority, signal?: AbortSignal): Promise<void> {
    const started = this.now();
    for (let waited = false; ; waited = true) {
      signal?.throwIfAborted();
      const { granted, waitMs } = await this.tryAcquire(priority);
      if (granted) {
        if (waited) this.reportWait(this.now() - started, priority);
        return;
      }
      await this.sleep(pollDelayMs(waitMs, this.maxPollMs, this.random), signal);
    }
  }

  private reportWait(ms: number, priority: CallPriority): void {
    try {
      this.onWait?.(ms, priority);
    } catch {
      // a metrics hook must not fail the call it measures
    }
  }
}
