import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createRedis, type Redis } from "../queue/redis";
import { deletePrefix, TEST_REDIS_URL } from "../../../../test/support/test-redis";
import type { CallPriority, QuotaAnswer } from "./http";
import { RedisRateBudget, type RateBudgetOptions } from "./rate-budget";

/**
 * Two RedisRateBudget instances on two connections play two worker processes of one account.
 * Windows are 2 s (10 s where a test must not see one end), so the real-time tests stay short.
 */
const prefix = `tp-test-budget-${randomBytes(5).toString("hex")}`;
const connections: Redis[] = [];
const POLICY_10_PER_2S = [{ name: "w", q: 10, w: 2 }];

function connect(): Redis {
  const redis = createRedis(TEST_REDIS_URL, { failFast: true, name: "rate-budget-test" });
  connections.push(redis);
  return redis;
}

let accounts = 0;
/** A fresh account (API key) per test, so no test sees another's state. */
const newApiKey = (): string => `rpa_test_${randomBytes(8).toString("hex")}_${(accounts += 1)}`;

function budget(apiKey: string, options: Partial<RateBudgetOptions> = {}) {
  const waits: [number, CallPriority][] = [];
  const b = new RedisRateBudget({
    redis: connect(),
    apiKey,
    prefix: `${prefix}:`,
    rules: { defaultPolicy: POLICY_10_PER_2S },
    maxPollMs: 50,
    onWait: (ms, priority) => waits.push([ms, priority]),
    ...options,
  });
  return Object.assign(b, { waits });
}

afterAll(async () => {
  for (const c of connections) c.disconnect();
  await deletePrefix(prefix);
});

class Stop extends Error {}

/** Runs `loops` callers per budget until `ms` have passed; answers when each call started (local clock). */
async function hammer(
  budgets: RedisRateBudget[],
  loops: number,
  ms: number,
  priorityOf: (loop: number) => CallPriority,
  call: (b: RedisRateBudget) => Promise<void>,
): Promise<{ at: number; priority: CallPriority }[]> {
  const started: { at: number; priority: CallPriority }[] = [];
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Stop("time is up")), ms);
  const loop = async (b: RedisRateBudget, i: number): Promise<void> => {
    const priority = priorityOf(i);
    while (!stop.signal.aborted) {
      try {
        await b.acquire(priority, stop.signal);
      } catch (err) {
        if (err instanceof Stop) return;
        throw err;
      }
      started.push({ at: Date.now(), priority });
      await call(b);
    }
  };
  await Promise.all(budgets.flatMap((b) => Array.from({ length: loops }, (_, i) => loop(b, i))));
  clearTimeout(timer);
  return started;
}

/** A RunPod account as the server keeps it: fixed 2 s windows, 10 calls each, t rounded down, 429 beyond. */
function fakeRunPod(q = 10, wMs = 2_000) {
  const counts = new Map<number, number>();
  let refused = 0;
  return {
    call(): QuotaAnswer {
      const now = Date.now();
      const window = Math.floor(now / wMs);
      const used = (counts.get(window) ?? 0) + 1;
      counts.set(window, used);
      const t = Math.floor(((window + 1) * wMs - now) / 1000);
      const policy = `"w";q=${q};w=${wMs / 1000}`;
      if (used > q) {
        refused += 1;
        return { status: 429, rateLimit: `"w";r=0;t=${t}`, policy, retryAfterMs: t * 1000 };
      }
      return { status: 200, rateLimit: `"w";r=${q - used};t=${t}`, policy };
    },
    refused: () => refused,
    served: () => [...counts.values()].reduce((a, b) => a + b, 0),
  };
}

describe("RedisRateBudget", () => {
  it.each([
    ["normal", 8],
    ["urgent", 10],
  ] as const)(
    "lets two processes start no more than the quota in a window between them (%s calls)",
    async (priority, perWindow) => {
      const apiKey = newApiKey();
      const a = budget(apiKey);
      const b = budget(apiKey);
      const started = await hammer(
        [a, b],
        4,
        4_500,
        () => priority,
        async () => undefined,
      );
      // the windows run on the grid of the first one, [start, start + 2 s): find it from where the last one ends
      const reset = (await a.snapshot())?.windows[0]?.reset ?? 0;
      const counts = new Map<number, number>();
      for (const { at } of started) {
        const windowsBack = Math.ceil((reset - at) / 2_000);
        counts.set(windowsBack, (counts.get(windowsBack) ?? 0) + 1);
      }
      expect(Math.max(...counts.values())).toBeLessThanOrEqual(10);
      // two full windows and the start of a third: no process starved the other
      expect(started.length).toBeGreaterThanOrEqual(2 * perWindow + 1);
    },
  );

  it("learns RunPod's real quota from its headers and paces two processes so that neither gets a 429", async () => {
    const runpod = fakeRunPod();
    const apiKey = newApiKey();
    // the production default (60 a minute) is far above this account's 10 per 2 s: only what the
    // headers say keeps the calls under it (with the default alone, 60 would go out in 2 s)
    const a = budget(apiKey, { rules: {} });
    const b = budget(apiKey, { rules: {} });
    await hammer(
      [a, b],
      3,
      5_000,
      (i) => (i === 0 ? "urgent" : "normal"),
      async (budgetOf) => {
        await sleep(5); // the round trip
        await budgetOf.observe(runpod.call());
      },
    );
    expect(runpod.refused()).toBe(0);
    expect(runpod.served()).toBeGreaterThanOrEqual(15);
  });

  it("lets urgent calls through on the reserve while normal ones are held", async () => {
    const apiKey = newApiKey();
    const a = budget(apiKey, { rules: { defaultPolicy: [{ name: "w", q: 10, w: 10 }] } });
    const b = budget(apiKey, { rules: { defaultPolicy: [{ name: "w", q: 10, w: 10 }] } });
    await a.observe({ status: 200, rateLimit: '"w";r=2;t=10', policy: '"w";q=10;w=10' });

    await expect(b.acquire("normal", AbortSignal.timeout(300))).rejects.toMatchObject({ name: "TimeoutError" });
    await b.acquire("urgent");
    await a.acquire("urgent");
    expect([...a.waits, ...b.waits]).toEqual([]);
    await expect(b.acquire("urgent", AbortSignal.timeout(300))).rejects.toMatchObject({ name: "TimeoutError" });
    expect((await b.snapshot())?.windows[0]?.rem).toBe(0);
  });

  it("makes every process of the account wait out a 429 one of them saw", async () => {
    const apiKey = newApiKey();
    const a = budget(apiKey);
    const b = budget(apiKey);
    await a.observe({ status: 429, rateLimit: null, policy: null, retryAfterMs: 800 });
    await b.acquire("urgent");
    expect(b.waits).toHaveLength(1);
    expect(b.waits[0]?.[1]).toBe("urgent");
    expect(b.waits[0]?.[0]).toBeGreaterThanOrEqual(700);
  });

  it("keeps another account apart", async () => {
    const a = budget(newApiKey());
    const other = budget(newApiKey());
    expect(other.key).not.toBe(a.key);
    await a.observe({ status: 429, rateLimit: '"w";r=0;t=2', policy: '"w";q=10;w=2', retryAfterMs: 5_000 });
    await other.acquire("normal");
    expect(other.waits).toEqual([]);
    await expect(a.acquire("urgent", AbortSignal.timeout(200))).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("stores neither the API key nor anything that leads to it, under the account's key", async () => {
    const apiKey = newApiKey();
    const a = budget(apiKey);
    await a.acquire("urgent");
    expect(a.key).toMatch(new RegExp(`^${prefix}:runpod:budget:[0-9a-f]{16}$`));
    expect(a.key).not.toContain(apiKey);
    expect(await connections[0]?.get(a.key)).not.toContain(apiKey);
  });

  it("starts over from the default policy when its key expires", async () => {
    const apiKey = newApiKey();
    const a = budget(apiKey);
    // a policy of 0.2 s windows: the key lives max(1 s, 3 x 0.2 s)
    await a.observe({ status: 200, rateLimit: '"w";r=0;t=0.2', policy: '"w";q=3;w=0.2' });
    const redis = connections[connections.length - 1] as Redis;
    const ttl = await redis.pttl(a.key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
    await sleep(ttl + 100);
    expect(await redis.exists(a.key)).toBe(0);
    await a.acquire("normal");
    expect(a.waits).toEqual([]);
    expect((await a.snapshot())?.windows).toEqual([
      expect.objectContaining({ name: "w", q: 10, wMs: 2_000, rem: 9, anchored: false }),
    ]);
  });

  it("decides by the clock it is given, when given one", async () => {
    let now = Date.UTC(2026, 10, 20, 12, 0, 0);
    const a = budget(newApiKey(), {
      now: () => now,
      sleep: async (ms) => void (now += ms),
      random: () => 0,
      maxPollMs: 60_000,
    });
    await a.observe({ status: 429, rateLimit: null, policy: null, retryAfterMs: 60_000 });
    await a.acquire("urgent");
    expect(a.waits).toEqual([[60_000, "urgent"]]);
  });
});
