import fc from "fast-check";
import type { CallPriority } from "./http";
import {
  DEFAULT_BUDGET_RULES,
  decide,
  freshState,
  learn,
  reserveOf,
  stateTtlMs,
  type BudgetAnswer,
  type BudgetRules,
  type BudgetState,
} from "./rate-budget-state";

/** q=10 per 10 s: a reserve of 2, normal calls spaced once they may use 4 or fewer. */
const rules: BudgetRules = { ...DEFAULT_BUDGET_RULES, defaultPolicy: [{ name: "w", q: 10, w: 10 }] };
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);

/** A budget driven by hand: `at` moves the clock, `take` asks once and keeps the state. */
function budget(r: BudgetRules = rules) {
  let state: BudgetState | null = null;
  let now = T0;
  return {
    at: (ms: number) => (now = T0 + ms),
    advance: (ms: number) => (now += ms),
    now: () => now,
    take(priority: CallPriority) {
      const out = decide(state, now, priority, r);
      state = out.state;
      return out.decision;
    },
    learn(answer: BudgetAnswer) {
      state = learn(state, now, answer, r);
      return state;
    },
    window: (name = "w") => state?.windows.find((w) => w.name === name),
    state: () => state,
  };
}

describe("reserveOf", () => {
  it.each([
    [1, 0],
    [2, 1],
    [5, 1],
    [10, 2],
    [60, 12],
    [3000, 600],
  ])("q=%d keeps %d for urgent calls", (q, reserve) => {
    expect(reserveOf(q, rules)).toBe(reserve);
  });

  it("keeps none when the percent is 0", () => {
    expect(reserveOf(60, { ...rules, reservePercent: 0 })).toBe(0);
  });
});

describe("decide", () => {
  it("lets urgent calls use the whole window, then waits for its reset", () => {
    const b = budget();
    for (let i = 0; i < 10; i += 1) expect(b.take("urgent")).toEqual({ granted: true, waitMs: 0 });
    b.advance(4_000);
    expect(b.take("urgent")).toEqual({ granted: false, waitMs: 6_000 });
  });

  it("holds normal calls at the reserve, while urgent ones still get through", () => {
    const b = budget({ ...rules, spreadPercent: 0 });
    for (let i = 0; i < 8; i += 1) expect(b.take("normal").granted).toBe(true);
    expect(b.take("normal")).toEqual({ granted: false, waitMs: 10_000 });
    expect(b.take("urgent").granted).toBe(true);
    expect(b.take("urgent").granted).toBe(true);
    expect(b.take("urgent")).toEqual({ granted: false, waitMs: 10_000 });
  });

  it("bursts while plenty remains, then spaces normal calls evenly over the rest of the window", () => {
    const b = budget();
    for (let i = 0; i < 4; i += 1) expect(b.take("normal").granted).toBe(true);
    // 4 usable left, 10 s from the last start to the reset: five gaps of 2 s
    expect(b.take("normal")).toEqual({ granted: false, waitMs: 2_000 });
    b.advance(1_000);
    expect(b.take("normal")).toEqual({ granted: false, waitMs: 1_000 });
    expect(b.take("urgent").granted).toBe(true); // urgent calls are not spaced
    b.advance(1_000);
    // the urgent call restarted the spacing, and took a call: 3 usable over the 9 s left
    expect(b.take("normal")).toEqual({ granted: false, waitMs: 1_250 });
  });

  it("never lets normal calls past q minus the reserve in a window, however they ask", () => {
    const b = budget();
    const grants: number[] = [];
    for (let t = 0; t < 30_000; t += 100) {
      b.at(t);
      if (b.take("normal").granted) grants.push(t);
    }
    for (let w = 0; w < 3; w += 1)
      expect(grants.filter((t) => t >= w * 10_000 && t < (w + 1) * 10_000)).toHaveLength(8);
    // four back to back (one per 100 ms step), then the time left to the reset cut into equal
    // gaps: (10000-300)/5 → 2240, polled at 2300; (10000-2300)/4 → 4225; then 6200, 8100
    expect(grants.slice(0, 8)).toEqual([0, 100, 200, 300, 2_300, 4_300, 6_200, 8_100]);
  });

  it("starts a full window at reset, on the grid of the old one", () => {
    const b = budget();
    for (let i = 0; i < 10; i += 1) b.take("urgent");
    b.at(35_000); // three resets later
    expect(b.take("urgent").granted).toBe(true);
    expect(b.window()).toMatchObject({ rem: 9, reset: T0 + 40_000 });
  });

  it("does not change the state it was given", () => {
    const state = freshState(rules, T0);
    const before = structuredClone(state);
    decide(state, T0, "urgent", rules);
    expect(state).toEqual(before);
  });

  it("is held by the tightest window", () => {
    const b = budget();
    b.learn({
      status: 200,
      policy: [
        { name: "w", q: 10, w: 10 },
        { name: "h", q: 100, w: 3600 },
      ],
      limits: [
        { name: "w", r: 10, t: 10 },
        { name: "h", r: 0, t: 600 },
      ],
    });
    expect(b.take("urgent")).toEqual({ granted: false, waitMs: 601_000 });
  });
});

describe("learn", () => {
  it("takes RunPod's policy in place of the default, keeping what was counted, also in the windows it adds", () => {
    const b = budget({ ...rules, defaultPolicy: [{ name: "minute", q: 60, w: 60 }] });
    for (let i = 0; i < 5; i += 1) b.take("urgent");
    const s = b.learn({
      status: 200,
      policy: [
        { name: "minute", q: 60, w: 60 },
        { name: "day", q: 50000, w: 86400 },
        { name: "minute", q: 1, w: 1 },
      ],
    });
    expect(s.windows).toEqual([
      { name: "minute", q: 60, wMs: 60_000, reset: T0 + 60_000, rem: 55, anchored: false },
      { name: "day", q: 50000, wMs: 86_400_000, reset: T0 + 86_400_000, rem: 49995, anchored: false },
    ]);
  });

  it("carries the calls it counted into a window it did not know (calls RunPod has not answered yet)", () => {
    const b = budget({ ...rules, defaultPolicy: [{ name: "minute", q: 60, w: 60 }] });
    for (let i = 0; i < 6; i += 1) b.take("urgent");
    b.learn({ status: 200, policy: [{ name: "w", q: 10, w: 2 }], limits: [{ name: "w", r: 9, t: 2 }] });
    expect(b.window()).toMatchObject({ q: 10, rem: 4, anchored: true });
  });

  it("drops a window the policy no longer lists, and lowers a window's end when it got shorter", () => {
    const b = budget({
      ...rules,
      defaultPolicy: [
        { name: "minute", q: 60, w: 60 },
        { name: "old", q: 5, w: 60 },
      ],
    });
    b.take("urgent");
    const s = b.learn({ status: 200, policy: [{ name: "minute", q: 10, w: 2 }] });
    expect(s.windows).toEqual([{ name: "minute", q: 10, wMs: 2_000, reset: T0 + 2_000, rem: 9, anchored: false }]);
  });

  it("anchors a window on RunPod's remaining and reset (padded by a second for t's rounding)", () => {
    const b = budget();
    b.take("urgent");
    b.learn({ status: 200, limits: [{ name: "w", r: 3, t: 4 }] });
    expect(b.window()).toEqual({ name: "w", q: 10, wMs: 10_000, reset: T0 + 5_000, rem: 3, anchored: true });
  });

  it("keeps its own lower count within the same window (calls RunPod has not seen yet)", () => {
    const b = budget();
    b.learn({ status: 200, limits: [{ name: "w", r: 9, t: 10 }] });
    for (let i = 0; i < 4; i += 1) b.take("urgent");
    b.advance(300);
    b.learn({ status: 200, limits: [{ name: "w", r: 8, t: 10 }] }); // an answer to the first of the four
    expect(b.window()).toMatchObject({ rem: 5, reset: T0 + 11_300 });
  });

  it("takes RunPod's r when its window starts well after ours ended", () => {
    const b = budget();
    b.learn({ status: 200, limits: [{ name: "w", r: 0, t: 2 }] });
    expect(b.take("urgent").granted).toBe(false);
    b.advance(1_000);
    b.learn({ status: 200, limits: [{ name: "w", r: 9, t: 10 }] });
    expect(b.window()).toMatchObject({ rem: 9, reset: T0 + 12_000 });
    expect(b.take("urgent").granted).toBe(true);
  });

  it("counts a reset exactly the slack after its own as the same window", () => {
    const b = budget();
    b.learn({ status: 200, limits: [{ name: "w", r: 1, t: 2 }] }); // reset T0 + 3 s
    b.learn({ status: 200, limits: [{ name: "w", r: 9, t: 3.5 }] }); // T0 + 4.5 s: 1.5 s later
    expect(b.window()).toMatchObject({ rem: 1, reset: T0 + 4_500 });
    b.learn({ status: 200, limits: [{ name: "w", r: 9, t: 5.1 }] }); // 1.6 s later: a new window
    expect(b.window()).toMatchObject({ rem: 9, reset: T0 + 6_100 });
  });

  it("keeps its later reset against a late answer from an older window", () => {
    const b = budget();
    b.learn({ status: 200, limits: [{ name: "w", r: 9, t: 10 }] });
    b.advance(5_000);
    b.learn({ status: 200, limits: [{ name: "w", r: 2, t: 1 }] });
    expect(b.window()).toMatchObject({ rem: 2, reset: T0 + 11_000 });
  });

  it("uses r alone when t is absent, and ignores a window that ends now (t=0)", () => {
    const b = budget();
    b.learn({ status: 200, limits: [{ name: "w", r: 4 }] });
    expect(b.window()).toMatchObject({ rem: 4, anchored: false, reset: T0 + 10_000 });
    b.learn({ status: 200, limits: [{ name: "w", r: 0, t: 0 }] });
    expect(b.window()).toMatchObject({ rem: 4, anchored: false });
  });

  it("adds a window RunPod reports without a policy, as long as its reset, holding what remains", () => {
    const b = budget();
    b.learn({ status: 200, limits: [{ name: "hour", r: 0, t: 30 }] });
    expect(b.window("hour")).toEqual({ name: "hour", q: 1, wMs: 30_000, reset: T0 + 31_000, rem: 0, anchored: true });
    expect(b.take("urgent")).toEqual({ granted: false, waitMs: 31_000 });
  });

  it("never takes a quota below 1, so a window always opens again", () => {
    const b = budget();
    b.learn({ status: 200, policy: [{ name: "w", q: 0, w: 10 }] });
    b.at(10_000);
    expect(b.take("urgent").granted).toBe(true);
  });

  it("holds every call after a 429 until Retry-After, the later hold winning", () => {
    const b = budget();
    b.learn({ status: 429, retryAfterMs: 3_000 });
    b.learn({ status: 429, retryAfterMs: 1_000 });
    expect(b.take("urgent")).toEqual({ granted: false, waitMs: 3_000 });
    expect(b.take("normal")).toEqual({ granted: false, waitMs: 3_000 });
    b.advance(3_000);
    expect(b.take("urgent").granted).toBe(true);
  });

  it("holds for the default when a 429 names no Retry-After, and not at all for other statuses", () => {
    const b = budget();
    b.learn({ status: 503, retryAfterMs: 5_000 });
    expect(b.take("urgent").granted).toBe(true);
    b.learn({ status: 429 });
    expect(b.take("urgent")).toEqual({ granted: false, waitMs: 1_000 });
  });
});

describe("stateTtlMs", () => {
  it("is three of the longest windows, plus any hold still to run", () => {
    const s = learn(
      null,
      T0,
      {
        status: 429,
        retryAfterMs: 7_000,
        policy: [
          { name: "m", q: 60, w: 60 },
          { name: "h", q: 3000, w: 3600 },
        ],
      },
      rules,
    );
    expect(stateTtlMs(s, T0)).toBe(3 * 3_600_000 + 7_000);
    expect(stateTtlMs(s, T0 + 10_000)).toBe(3 * 3_600_000);
  });
});

describe("decide, over random histories without answers", () => {
  it("starts at most q calls per window, and at most q minus the reserve normal ones", () => {
    const step = fc.record({ dt: fc.integer({ min: 0, max: 3_000 }), urgent: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const b = budget();
        const starts: { t: number; urgent: boolean }[] = [];
        for (const { dt, urgent } of steps) {
          b.advance(dt);
          if (b.take(urgent ? "urgent" : "normal").granted) starts.push({ t: b.now() - T0, urgent });
        }
        const perWindow = new Map<number, { all: number; normal: number }>();
        for (const s of starts) {
          const c = perWindow.get(Math.floor(s.t / 10_000)) ?? { all: 0, normal: 0 };
          c.all += 1;
          if (!s.urgent) c.normal += 1;
          perWindow.set(Math.floor(s.t / 10_000), c);
        }
        for (const c of perWindow.values()) {
          expect(c.all).toBeLessThanOrEqual(10);
          expect(c.normal).toBeLessThanOrEqual(8);
        }
      }),
    );
  });
});

describe("a learned quota replaces the assumed one", () => {
  it("keeps the calls already used, not the assumed quota's remaining (60 assumed, 6000 real: 9 used leaves 5991)", () => {
    const b = budget({ ...rules, defaultPolicy: [{ name: "minute", q: 60, w: 60 }] });
    for (let i = 0; i < 9; i++) expect(b.take("normal").granted).toBe(true);
    b.learn({
      status: 200,
      policy: [{ name: "minute", q: 6000, w: 60 }],
      limits: [{ name: "minute", r: 5999, t: 59 }],
    });
    expect(b.window("minute")).toMatchObject({ q: 6000, rem: 5991 });
    // and normal calls go on at once: the reserve of 1200 is far below what remains
    expect(b.take("normal")).toEqual({ granted: true, waitMs: 0 });
  });

  it("a quota that shrinks keeps the calls used too, never below zero", () => {
    const b = budget({ ...rules, defaultPolicy: [{ name: "minute", q: 60, w: 60 }] });
    for (let i = 0; i < 30; i++) b.take("urgent");
    b.learn({ status: 200, policy: [{ name: "minute", q: 20, w: 60 }] });
    expect(b.window("minute")).toMatchObject({ q: 20, rem: 0 });
  });
});
