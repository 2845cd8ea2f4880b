/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. One call takes one token.
 *
 * Written here rather than taken from npm: `bottleneck` (CommonJS) has had no release since 2019
 * and spaces calls (`minTime`) rather than keeping a bucket; p-throttle and p-limit are ESM-only.
 *
 * Concurrency-safe without a queue: `reserve()` takes the token at once, letting the count go
 * negative, and answers how long the caller must wait for it. So N concurrent callers wait
 * 0, 1/rate, 2/rate, ... and never more than the rate goes out. `reserve` is synchronous and
 * reads time only through `now`, so tests drive it with a hand-moved clock and no timers.
 */
export interface TokenBucketOptions {
  ratePerSecond: number;
  /** tokens that may be saved up for a burst (default 1: calls evenly spaced) */
  burst?: number;
  /** milliseconds, monotonic */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const monotonicNow = (): number => performance.now();

export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private tokens: number;
  private updatedAt: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${options.ratePerSecond}`);
    this.burst = Math.max(1, options.burst ?? 1);
    this.ratePerMs = options.ratePerSecond / 1000;
    this.now = options.now ?? monotonicNow;
    this.sleep = options.sleep ?? defaultSleep;
    this.tokens = this.burst;
    this.updatedAt = this.now();
  }

  /** Takes a token now; answers how many ms the caller must wait before using it (0 if none). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.ratePerMs);
  }

  /** Resolves when the caller may make its call. */
  async acquire(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await this.sleep(waitMs);
  }

  private refill(): void {
    const at = this.now();
    const elapsed = Math.max(0, at - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerMs);
    this.updatedAt = at;
  }
}
