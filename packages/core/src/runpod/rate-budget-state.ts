import type { CallPriority } from "./http";
import type { RateLimitPolicyWindow, RateLimitWindow } from "./rate-budget-headers";

/**
 * The decisions of the RunPod rate budget, as pure functions of (state, now): the source of
 * truth. `rate-budget-lua.ts` runs the same steps inside Redis (one atomic script for every
 * process of an account), and its test replays random histories through both and asks for
 * the same answers; LocalRateBudget runs these directly.
 *
 * The model mirrors RunPod's: fixed windows (minute, hour, day), each with a quota `q`. For each
 * window we keep when it resets and how many calls are left in it, `rem`: RunPod's last `r`,
 * less every call any process started since. A call may start only when every window has room.
 */

export interface WindowState {
  name: string;
  /** calls per window, at least 1 (a quota of 0 would hold every call with no answer to learn from) */
  q: number;
  /** window length, ms */
  wMs: number;
  /** when the current window ends, epoch ms */
  reset: number;
  /** calls left in the current window, as far as we know */
  rem: number;
  /** is `reset` RunPod's (from a `t`) rather than our guess from the default policy? */
  anchored: boolean;
}

export interface BudgetState {
  windows: WindowState[];
  /** when the last call started (epoch ms; 0: none yet): spacing counts from here */
  lastStart: number;
  /** no call starts before this (a 429's Retry-After) */
  blockedUntil: number;
}

export interface BudgetRules {
  /** the policy assumed before RunPod's first RateLimit-Policy (default 60 a minute) */
  defaultPolicy: RateLimitPolicyWindow[];
  /**
   * share of each window (percent, rounded up, at least 1 call when q > 1 and the percent > 0)
   * that `normal` calls leave alone: only `high` and `urgent` calls (CallPriority, http.ts) may use it
   */
  reservePercent: number;
  /**
   * the part of that reserve (same rounding, never more than it) that only `urgent` calls, the
   * terminations, may use: the monitor's listings cannot spend it, so a DELETE finds room
   */
  terminationReservePercent: number;
  /** normal calls are spaced evenly over the rest of the window once what they may still use falls to this percent */
  spreadPercent: number;
  /** added to every reset RunPod announces: `t` is whole seconds and may be rounded down */
  resetPadMs: number;
  /** two announced resets this close (at most half a window) are the same window */
  resetSlackMs: number;
  /** how long a 429 without Retry-After holds every call */
  defaultRetryAfterMs: number;
}

export const DEFAULT_BUDGET_RULES: BudgetRules = {
  defaultPolicy: [{ name: "minute", q: 60, w: 60 }],
  reservePercent: 20,
  terminationReservePercent: 10,
  spreadPercent: 50,
  resetPadMs: 1_000,
  resetSlackMs: 1_500,
  defaultRetryAfterMs: 1_000,
};

/** One answer from RunPod, its headers parsed. Absent fields are left out (they cross into Lua as JSON). */
export interface BudgetAnswer {
  status: number;
  limits?: RateLimitWindow[];
  policy?: RateLimitPolicyWindow[];
  retryAfterMs?: number;
}

export interface Decision {
  granted: boolean;
  /** when not granted: ms until there may be room (a hint for the poll delay) */
  waitMs: number;
}

const clone = (s: BudgetState): BudgetState => ({ ...s, windows: s.windows.map((w) => ({ ...w })) });

/** The state before any call: the default policy, every window full and starting now. */
export function freshState(rules: BudgetRules, now: number): BudgetState {
  const windows = rules.defaultPolicy.map((p) => newWindow(p.name, Math.max(p.q, 1), Math.ceil(p.w * 1000), now));
  return { windows, lastStart: 0, blockedUntil: 0 };
}

function newWindow(name: string, q: number, wMs: number, now: number): WindowState {
  return { name, q, wMs, reset: now + wMs, rem: q, anchored: false };
}

/** Windows whose reset has passed start again, full. */
function roll(s: BudgetState, now: number): BudgetState {
  for (const w of s.windows) {
    if (now >= w.reset) {
      w.reset += (Math.floor((now - w.reset) / w.wMs) + 1) * w.wMs;
      w.rem = w.q;
    }
  }
  return s;
}

function shareOf(q: number, percent: number): number {
  if (q <= 1 || percent <= 0) return 0;
  return Math.min(q - 1, Math.max(1, Math.ceil((q * percent) / 100)));
}

/** The calls of a window that `normal` calls leave alone. */
export function reserveOf(q: number, rules: BudgetRules): number {
  return shareOf(q, rules.reservePercent);
}

/** The calls of a window that only `urgent` calls (terminations) may use: part of the reserve. */
export function terminationReserveOf(q: number, rules: BudgetRules): number {
  return Math.min(reserveOf(q, rules), shareOf(q, rules.terminationReservePercent));
}

/** What a call of this priority must leave in a window: urgent nothing, high the terminations' share, normal the reserve. */
export function heldFor(priority: CallPriority, q: number, rules: BudgetRules): number {
  if (priority === "urgent") return 0;
  return priority === "high" ? terminationReserveOf(q, rules) : reserveOf(q, rules);
}

function spreadAt(q: number, rules: BudgetRules): number {
  return Math.ceil(((q - reserveOf(q, rules)) * rules.spreadPercent) / 100);
}

/**
 * May a call of this priority start now? If so the answer's state has counted it.
 * Normal calls leave each window's reserve alone and, when what they may still use is low,
 * are spaced evenly over the rest of the window rather than spending it in a burst: with u calls
 * usable, the time from the last start to the reset is cut into u + 1 equal gaps (a gap that
 * stays the same from call to call, and leaves the last call inside the window). High calls
 * leave the terminations' share alone; urgent calls may take every call left. A call of a higher
 * priority is therefore refused only when every lower one would be too: a DELETE never waits
 * while a listing, a billing read or a create could start.
 */
export function decide(
  state: BudgetState | null,
  now: number,
  priority: CallPriority,
  rules: BudgetRules,
): { decision: Decision; state: BudgetState } {
  const s = roll(state ? clone(state) : freshState(rules, now), now);
  let wait = Math.max(0, s.blockedUntil - now);
  for (const w of s.windows) {
    const usable = w.rem - heldFor(priority, w.q, rules);
    if (usable < 1) wait = Math.max(wait, w.reset - now);
    else if (priority === "normal" && usable <= spreadAt(w.q, rules)) {
      wait = Math.max(wait, s.lastStart + Math.ceil((w.reset - s.lastStart) / (usable + 1)) - now);
    }
  }
  if (wait > 0) return { decision: { granted: false, waitMs: wait }, state: s };
  for (const w of s.windows) w.rem -= 1;
  s.lastStart = now;
  return { decision: { granted: true, waitMs: 0 }, state: s };
}

/** Learns from one answer: the policy, each window's remaining and reset, a 429's hold. */
export function learn(state: BudgetState | null, now: number, answer: BudgetAnswer, rules: BudgetRules): BudgetState {
  const s = roll(state ? clone(state) : freshState(rules, now), now);
  if (answer.policy && answer.policy.length > 0) learnPolicy(s, answer.policy, now);
  for (const limit of answer.limits ?? []) learnLimit(s, limit, now, rules);
  if (answer.status === 429) {
    const hold = answer.retryAfterMs ?? rules.defaultRetryAfterMs;
    s.blockedUntil = Math.max(s.blockedUntil, now + Math.ceil(Math.max(0, hold)));
  }
  return s;
}

/**
 * The policy is the whole list of windows: ours are kept (with what we counted) or added or
 * dropped. A window we did not know (the default's "minute" under another name, say) starts with
 * the calls already counted in the others taken off: some are still on their way to RunPod and
 * missing from the `r` that comes with this policy.
 */
function learnPolicy(s: BudgetState, policy: RateLimitPolicyWindow[], now: number): void {
  const counted = Math.max(0, ...s.windows.map((w) => w.q - w.rem));
  const windows: WindowState[] = [];
  for (const p of policy) {
    if (windows.some((w) => w.name === p.name)) continue;
    const q = Math.max(p.q, 1);
    const wMs = Math.ceil(p.w * 1000);
    const old = s.windows.find((w) => w.name === p.name);
    if (old) {
      // a quota that changes (the assumed default replaced by RunPod's) keeps the calls already used
      old.rem = Math.max(0, Math.min(q, old.rem + (q - old.q)));
      old.q = q;
      old.wMs = wMs;
      old.reset = Math.min(old.reset, now + wMs);
      windows.push(old);
    } else windows.push({ ...newWindow(p.name, q, wMs, now), rem: Math.max(0, q - counted) });
  }
  s.windows = windows;
}

/**
 * RunPod's `r` counts every call it has seen; ours also counts calls still on their way to it,
 * so within one window the smaller of the two is kept. A reset well after ours means RunPod has
 * started a new window: its `r` is then the news. A `t` of 0 speaks of a window that is ending.
 */
function learnLimit(s: BudgetState, limit: RateLimitWindow, now: number, rules: BudgetRules): void {
  const tMs = limit.t === undefined ? -1 : Math.ceil(limit.t * 1000);
  let w = s.windows.find((x) => x.name === limit.name);
  if (!w && tMs > 0) {
    // no policy for it: assume the window is as long as its reset and holds what remains
    w = newWindow(limit.name, Math.max(limit.r, 1), tMs, now);
    s.windows.push(w);
  }
  if (!w) return;
  if (tMs < 0) w.rem = Math.min(w.rem, limit.r);
  if (tMs <= 0) return;
  const reset = now + tMs + rules.resetPadMs;
  const slack = Math.min(rules.resetSlackMs, Math.floor(w.wMs / 2));
  if (!w.anchored) {
    w.rem = Math.min(w.rem, limit.r);
    w.reset = reset;
    w.anchored = true;
  } else if (reset > w.reset + slack) {
    w.rem = limit.r;
    w.reset = reset;
  } else {
    w.rem = Math.min(w.rem, limit.r);
    w.reset = Math.max(w.reset, reset);
  }
}

/** How long Redis keeps an account's state after its last change: three of its longest windows, and any hold. */
export function stateTtlMs(s: BudgetState, now: number): number {
  const longest = Math.max(0, ...s.windows.map((w) => w.wMs));
  return Math.max(1_000, 3 * longest + Math.max(0, s.blockedUntil - now));
}
