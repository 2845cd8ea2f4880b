import type { CallPriority } from "./http";
import { pollDelayMs } from "./rate-budget-polling";
import { LocalRateBudget, abortableSleep, accountIdOf, rateBudgetKey, type RateBudgetOptions } from "./rate-budget";

const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const POLICY = '"w";q=10;w=10';

/** A LocalRateBudget on a hand-moved clock: its sleep moves the clock instead of waiting. */
function manual(options: RateBudgetOptions = {}) {
  let now = T0;
  const slept: number[] = [];
  const waits: [number, CallPriority][] = [];
  const budget = new LocalRateBudget({
    rules: { defaultPolicy: [{ name: "w", q: 10, w: 10 }] },
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0,
    onWait: (ms, priority) => waits.push([ms, priority]),
    ...options,
  });
  return { budget, slept, waits, elapsed: () => now - T0, advance: (ms: number) => (now += ms) };
}

class Cancelled extends Error {}

describe("LocalRateBudget", () => {
  it("lets a call with room start at once, and reports no wait", async () => {
    const m = manual();
    await m.budget.acquire("normal");
    expect(m.slept).toEqual([]);
    expect(m.waits).toEqual([]);
    expect(m.budget.snapshot()?.windows[0]?.rem).toBe(9);
  });

  it("waits out a window in polls no longer than maxPollMs, and reports the whole wait once", async () => {
    const m = manual({ maxPollMs: 2_500 });
    await m.budget.observe({ status: 200, rateLimit: '"w";r=0;t=5', policy: POLICY });
    await m.budget.acquire("urgent");
    // reset at 5 s + the 1 s pad for t's rounding
    expect(m.slept).toEqual([2_500, 2_500, 1_000]);
    expect(m.waits).toEqual([[6_000, "urgent"]]);
  });

  it("lets urgent calls use the reserve that holds normal ones", async () => {
    const m = manual();
    await m.budget.observe({ status: 200, rateLimit: '"w";r=2;t=10', policy: POLICY });
    await m.budget.acquire("urgent");
    await m.budget.acquire("urgent");
    expect(m.waits).toEqual([]);
    await m.budget.acquire("normal");
    expect(m.waits).toEqual([[11_000, "normal"]]);
  });

  it("holds every call after a 429 until its Retry-After", async () => {
    const m = manual();
    await m.budget.observe({ status: 429, rateLimit: null, policy: null, retryAfterMs: 3_000 });
    await m.budget.acquire("urgent");
    expect(m.waits).toEqual([[3_000, "urgent"]]);
  });

  it("learns nothing from an answer without quota headers (an exempt caller)", async () => {
    const m = manual();
    await m.budget.observe({ status: 200, rateLimit: null, policy: null });
    expect(m.budget.snapshot()).toBeNull();
  });

  it("reads the raw headers: RunPod's policy replaces the default", async () => {
    const m = manual();
    await m.budget.observe({
      status: 200,
      rateLimit: '"minute";r=59;t=60, "day";r=49999;t=86400',
      policy: '"minute";q=60;w=60, "day";q=50000;w=86400',
    });
    expect(m.budget.snapshot()?.windows.map((w) => [w.name, w.q, w.rem])).toEqual([
      ["minute", 60, 59],
      ["day", 50000, 49999],
    ]);
  });

  it("rejects with the signal's reason when aborted before it starts", async () => {
    const m = manual();
    const controller = new AbortController();
    controller.abort(new Cancelled("shutting down"));
    await expect(m.budget.acquire("urgent", controller.signal)).rejects.toBeInstanceOf(Cancelled);
    expect(m.budget.snapshot()).toBeNull(); // nothing counted
  });

  it("rejects with the signal's reason when aborted while waiting, and reports no wait", async () => {
    const controller = new AbortController();
    const m = manual({
      sleep: async () => {
        controller.abort(new Cancelled("deadline"));
      },
    });
    await m.budget.observe({ status: 429, rateLimit: null, policy: null, retryAfterMs: 5_000 });
    await expect(m.budget.acquire("normal", controller.signal)).rejects.toThrow(new Cancelled("deadline"));
    expect(m.waits).toEqual([]);
  });

  it("survives an onWait hook that throws", async () => {
    const m = manual({
      onWait: () => {
        throw new Error("metrics down");
      },
    });
    await m.budget.observe({ status: 429, rateLimit: null, policy: null, retryAfterMs: 100 });
    await expect(m.budget.acquire("urgent")).resolves.toBeUndefined();
    expect(m.elapsed()).toBe(100);
  });

  it.each([
    [{ reservePercent: 120 }, /reservePercent/],
    [{ spreadPercent: -1 }, /spreadPercent/],
    [{ defaultPolicy: [] }, /defaultPolicy/],
    [{ defaultPolicy: [{ name: "m", q: 0, w: 60 }] }, /q >= 1/],
  ])("refuses rules %p", (rules, message) => {
    expect(() => new LocalRateBudget({ rules })).toThrow(message);
    expect(() => new LocalRateBudget({ rules })).toThrow(RangeError);
  });
});

describe("pollDelayMs", () => {
  it("sleeps until there may be room, capped, with up to a tenth more of jitter", () => {
    expect(pollDelayMs(300, 1_000, () => 0)).toBe(300);
    expect(pollDelayMs(300, 1_000, () => 0.999)).toBe(330);
    expect(pollDelayMs(60_000, 1_000, () => 0)).toBe(1_000);
    expect(pollDelayMs(60_000, 1_000, () => 0.999)).toBe(1_100);
    expect(pollDelayMs(0, 1_000, () => 0)).toBe(1);
  });
});

describe("abortableSleep", () => {
  it("resolves after its time", async () => {
    await expect(abortableSleep(5)).resolves.toBeUndefined();
  });

  it("rejects with the reason as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort(new Cancelled("stop"));
    await expect(sleeping).rejects.toThrow(new Cancelled("stop"));
  });

  it("rejects at once on a signal already aborted", async () => {
    await expect(abortableSleep(60_000, AbortSignal.abort(new Cancelled("gone")))).rejects.toBeInstanceOf(Cancelled);
  });
});

describe("accountIdOf", () => {
  it("names the account by a short hash, never by the key", () => {
    const key = "rpa_SECRETSECRETSECRET";
    const id = accountIdOf(key);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(id).toBe(accountIdOf(key));
    expect(accountIdOf(`${key}x`)).not.toBe(id);
    expect(rateBudgetKey("{trainpod}:", id)).toBe(`{trainpod}:runpod:budget:${id}`);
  });
});
