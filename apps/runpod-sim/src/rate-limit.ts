/**
 * Per-account request quota over fixed minute/hour/day windows (aligned to the epoch), as
 * RunPod v2 publishes it: every authenticated answer carries `RateLimit` (remaining `r`, seconds
 * to reset `t`) and `RateLimit-Policy` (quota `q`, window `w`) structured-field lists; past a
 * quota the answer is 429 with Retry-After. Refused calls do not count. The sim has one account:
 * the SIM_API_KEY holder and every pod-scoped key.
 */
import type { QuotaConfig } from "./config";

const WINDOWS = [
  ["minute", 60],
  ["hour", 3600],
  ["day", 86400],
] as const;
type WindowName = (typeof WINDOWS)[number][0];

export type QuotaDecision =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; window: WindowName; retryAfterSeconds: number; headers: Record<string, string> };

export class RateLimiter {
  private readonly used = new Map<WindowName, { start: number; count: number }>();
  refused = 0;

  constructor(private readonly quota: () => QuotaConfig) {}

  private state(
    now: number,
  ): Array<{ name: WindowName; seconds: number; quota: number; count: number; reset: number }> {
    return WINDOWS.map(([name, seconds]) => {
      const start = Math.floor(now / (seconds * 1000)) * seconds * 1000;
      let w = this.used.get(name);
      if (w === undefined || w.start !== start) {
        w = { start, count: 0 };
        this.used.set(name, w);
      }
      return {
        name,
        seconds,
        quota: this.quota()[name],
        count: w.count,
        reset: Math.max(1, Math.ceil((start + seconds * 1000 - now) / 1000)),
      };
    });
  }

  private headers(now: number): Record<string, string> {
    const s = this.state(now);
    return {
      RateLimit: s.map((w) => `"${w.name}";r=${Math.max(0, w.quota - w.count)};t=${w.reset}`).join(", "),
      "RateLimit-Policy": s.map((w) => `"${w.name}";q=${w.quota};w=${w.seconds}`).join(", "),
    };
  }

  /** Counts one request if every window has room; otherwise refuses it (not counted). */
  take(now = Date.now()): QuotaDecision {
    const windows = this.state(now);
    const full = windows.filter((w) => w.count >= w.quota);
    if (full.length > 0) {
      this.refused += 1;
      // the call can go through only when every full window has reset: name the one that resets last
      const last = full.reduce((a, b) => (b.reset > a.reset ? b : a));
      return { ok: false, window: last.name, retryAfterSeconds: last.reset, headers: this.headers(now) };
    }
    for (const w of windows) (this.used.get(w.name) as { count: number }).count += 1;
    return { ok: true, headers: this.headers(now) };
  }

  /** The current headers without counting (for answers that do not count, e.g. injected faults). */
  peek(now = Date.now()): Record<string, string> {
    return this.headers(now);
  }

  reset(): void {
    this.used.clear();
    this.refused = 0;
  }
}
