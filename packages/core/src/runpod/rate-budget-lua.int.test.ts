import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { createRedis, type Redis } from "../queue/redis";
import { deletePrefix, TEST_REDIS_URL } from "../../../../test/support/test-redis";
import { decideInRedis, learnInRedis, peekInRedis } from "./rate-budget-lua";
import type { CallPriority } from "./http";
import {
  DEFAULT_BUDGET_RULES,
  decide,
  learn,
  stateTtlMs,
  type BudgetAnswer,
  type BudgetRules,
  type BudgetState,
} from "./rate-budget-state";

/**
 * The Lua script is a copy of the pure TS rules: every random history here runs through both,
 * step by step on the same clock, and must give the same decisions and the same state.
 */
const prefix = `tp-test-budget-${randomBytes(5).toString("hex")}`;
let redis: Redis;
let keys = 0;
const newKey = (): string => `${prefix}:lua:${(keys += 1)}`;

beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL, { failFast: true, name: "rate-budget-lua-test" });
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(prefix);
});

const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);

type Op =
  | { kind: "advance"; ms: number }
  | { kind: "acquire"; priority: CallPriority }
  | { kind: "observe"; answer: BudgetAnswer };

const name = fc.constantFrom("m", "h", "x");
const policyWindow = fc.record({ name, q: fc.integer({ min: 0, max: 20 }), w: fc.constantFrom(0.5, 1, 2, 10, 60) });
const limitWindow = fc.record(
  {
    name,
    r: fc.integer({ min: 0, max: 20 }),
    t: fc.option(fc.constantFrom(0, 0.5, 1, 1.5, 2, 3.5, 9, 60), { nil: undefined }),
  },
  { requiredKeys: ["name", "r"] },
);
const answer: fc.Arbitrary<BudgetAnswer> = fc.record(
  {
    status: fc.constantFrom(200, 201, 404, 429),
    limits: fc.array(limitWindow, { minLength: 1, maxLength: 3 }),
    policy: fc.array(policyWindow, { minLength: 1, maxLength: 3 }),
    retryAfterMs: fc.integer({ min: 0, max: 5_000 }),
  },
  { requiredKeys: ["status"] },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  // round steps too, so that resets and slack boundaries are hit exactly
  fc.record({
    kind: fc.constant("advance" as const),
    ms: fc.oneof(fc.integer({ min: 0, max: 15_000 }), fc.constantFrom(0, 500, 1_000, 1_500, 2_000, 10_000)),
  }),
  fc.record({
    kind: fc.constant("acquire" as const),
    priority: fc.constantFrom<CallPriority>("urgent", "high", "normal"),
  }),
  fc.record({ kind: fc.constant("observe" as const), answer }),
);
const rulesArb: fc.Arbitrary<BudgetRules> = fc.record({
  defaultPolicy: fc.array(fc.record({ name, q: fc.integer({ min: 1, max: 20 }), w: fc.constantFrom(1, 2, 10) }), {
    minLength: 1,
    maxLength: 2,
  }),
  reservePercent: fc.integer({ min: 0, max: 60 }),
  terminationReservePercent: fc.integer({ min: 0, max: 60 }),
  spreadPercent: fc.integer({ min: 0, max: 100 }),
  resetPadMs: fc.constantFrom(0, 1_000),
  resetSlackMs: fc.constantFrom(500, 1_500),
  defaultRetryAfterMs: fc.constantFrom(0, 1_000),
});

/** Drops the keys that JSON leaves out anyway, so both sides compare as plain data. */
const plain = (s: BudgetState | null): unknown => JSON.parse(JSON.stringify(s)) as unknown;

async function replay(rules: BudgetRules, ops: Op[]): Promise<void> {
  const key = newKey();
  let now = T0;
  let ts: BudgetState | null = null;
  for (const [i, o] of ops.entries()) {
    const where = `step ${i}: ${JSON.stringify(o)}`;
    if (o.kind === "advance") now += o.ms;
    else if (o.kind === "acquire") {
      const local = decide(ts, now, o.priority, rules);
      const remote = await decideInRedis(redis, key, now, o.priority, rules);
      expect({ where, decision: remote.decision, state: plain(remote.state) }).toEqual({
        where,
        decision: local.decision,
        state: plain(local.state),
      });
      if (local.decision.granted) ts = local.state;
    } else {
      ts = learn(ts, now, o.answer, rules);
      expect({ where, state: plain(await learnInRedis(redis, key, now, o.answer, rules)) }).toEqual({
        where,
        state: plain(ts),
      });
    }
  }
  await redis.del(key);
}

describe("the rate budget's Lua script", () => {
  it("decides and learns exactly as the TS rules, over random histories", async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, fc.array(op, { maxLength: 40 }), (rules, ops) => replay(rules, ops)),
      { numRuns: 150 },
    );
  });

  it("agrees on the hand-picked cases of the unit tests", async () => {
    const rules: BudgetRules = { ...DEFAULT_BUDGET_RULES, defaultPolicy: [{ name: "w", q: 10, w: 10 }] };
    const acquire = (priority: CallPriority): Op => ({ kind: "acquire", priority });
    const observe = (a: BudgetAnswer): Op => ({ kind: "observe", answer: a });
    const advance = (ms: number): Op => ({ kind: "advance", ms });
    await replay(rules, [
      ...Array.from({ length: 11 }, () => acquire("normal")),
      advance(2_100),
      acquire("normal"),
      acquire("urgent"),
      advance(20_000),
      acquire("normal"),
    ]);
    await replay(rules, [
      observe({ status: 200, limits: [{ name: "w", r: 0, t: 2 }] }),
      acquire("urgent"),
      advance(1_000),
      observe({ status: 200, limits: [{ name: "w", r: 9, t: 10 }] }),
      acquire("urgent"),
    ]);
    await replay(rules, [
      observe({
        status: 200,
        policy: [
          { name: "w", q: 10, w: 10 },
          { name: "h", q: 100, w: 3600 },
        ],
        limits: [
          { name: "w", r: 10, t: 10 },
          { name: "h", r: 0, t: 600 },
        ],
      }),
      acquire("urgent"),
    ]);
    // a reset exactly the slack after ours is still the same window
    await replay(rules, [
      observe({ status: 200, limits: [{ name: "w", r: 1, t: 2 }] }),
      observe({ status: 200, limits: [{ name: "w", r: 9, t: 3.5 }] }),
      acquire("urgent"),
      acquire("urgent"),
    ]);
    // the listings leave the terminations' share alone; the DELETE takes it
    await replay(rules, [
      ...Array.from({ length: 8 }, () => acquire("normal")),
      acquire("high"),
      acquire("high"),
      acquire("urgent"),
      acquire("urgent"),
    ]);
    await replay(rules, [
      observe({ status: 429, retryAfterMs: 3_000 }),
      observe({ status: 429 }),
      acquire("urgent"),
      advance(3_000),
      acquire("normal"),
    ]);
    await replay(rules, [
      observe({ status: 200, limits: [{ name: "hour", r: 0, t: 30 }] }),
      observe({ status: 200, policy: [{ name: "w", q: 0, w: 10 }] }),
      advance(31_000),
      acquire("urgent"),
    ]);
  });

  it("stores the state with a TTL of three of its longest windows, and writes nothing on a refusal", async () => {
    const rules: BudgetRules = { ...DEFAULT_BUDGET_RULES, defaultPolicy: [{ name: "w", q: 1, w: 10 }] };
    const key = newKey();
    const state = await learnInRedis(
      redis,
      key,
      undefined,
      {
        status: 200,
        policy: [
          { name: "w", q: 1, w: 10 },
          { name: "h", q: 50, w: 100 },
        ],
      },
      rules,
    );
    const ttl = await redis.pttl(key);
    expect(ttl).toBeLessThanOrEqual(stateTtlMs(state, 0));
    expect(ttl).toBeGreaterThan(300_000 - 5_000);
    expect((await decideInRedis(redis, key, undefined, "urgent", rules)).decision.granted).toBe(true);
    const stored = await redis.get(key);
    expect((await decideInRedis(redis, key, undefined, "urgent", rules)).decision.granted).toBe(false);
    expect(await redis.get(key)).toBe(stored);
  });

  it("peeks without writing: null for an account it has never seen", async () => {
    const key = newKey();
    expect(await peekInRedis(redis, key, undefined, DEFAULT_BUDGET_RULES)).toBeNull();
    expect(await redis.exists(key)).toBe(0);
  });
});
