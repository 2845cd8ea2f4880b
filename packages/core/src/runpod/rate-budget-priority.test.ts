import fc from "fast-check";
import type { CallPriority } from "./http";
import { LocalRateBudget } from "./rate-budget";
import {
  DEFAULT_BUDGET_RULES,
  decide,
  learn,
  reserveOf,
  terminationReserveOf,
  type BudgetRules,
  type BudgetState,
} from "./rate-budget-state";
import { RunPodRestClient } from "./rest-client";

// Issue 23 item 5: under a 60/minute quota a finished run's DELETE waited behind listings, billing reads
// and creates (outcome → DELETE p90 34 s). The client's calls go through one budget on a virtual clock
// that moves only when every caller sleeps, so who is sent when is decided by the budget alone.

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
const pod = {
  id: "p1",
  name: "trainpod-d1",
  status: "PROVISIONING",
  cost: 0.74,
  createdAt: "2026-12-07T10:00:00Z",
  startedAt: null,
  gpu: { id: "NVIDIA A40", count: 1 },
};

/** A clock and a sleep for the budget: time jumps to the next sleeper's wake-up once everything else has settled. */
class VirtualTime {
  now = T0;
  private timers: Array<{ at: number; seq: number; wake: () => void }> = [];
  private seq = 0;

  sleep = (ms: number): Promise<void> =>
    new Promise((wake) => this.timers.push({ at: this.now + ms, seq: (this.seq += 1), wake }));

  /** Runs the sleepers in order of their wake-up until `done()` or the clock would pass `now + maxMs`. */
  async runUntil(done: () => boolean, maxMs: number): Promise<void> {
    const end = this.now + maxMs;
    for (;;) {
      await settle();
      if (done()) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (next === undefined || next.at > end) return;
      this.timers.shift();
      this.now = next.at;
      next.wake();
    }
  }
}

/** Lets every pending promise (fetch answers, budget decisions) settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i += 1) await new Promise((r) => setImmediate(r));
}

function system() {
  const time = new VirtualTime();
  const sent: Array<{ call: string; at: number }> = [];
  let first = true;
  const fakeFetch: typeof fetch = async (url, init) => {
    const method = init?.method ?? "GET";
    const path = new URL(String(url)).pathname.replace("/v2", "");
    const call = `${method} ${path.startsWith("/pods/") ? "/pods/{id}" : path}`;
    sent.push({ call, at: time.now });
    // the first answer says what RunPod counted: 12 calls left in this minute, the next one in 50 s
    const quota: Record<string, string> = first
      ? { ratelimit: '"minute";r=12;t=50', "ratelimit-policy": '"minute";q=60;w=60' }
      : {};
    first = false;
    const answer = (status: number, body?: unknown) =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...quota },
      });
    if (call === "GET /pods") return answer(200, { pods: [] });
    if (call === "POST /pods") return answer(201, pod);
    if (call === "GET /billing/pods") return answer(200, { records: [] });
    if (call === "DELETE /pods/{id}") return answer(204);
    throw new Error(`unexpected call ${call}`);
  };
  const budget = new LocalRateBudget({ now: () => time.now, sleep: time.sleep, random: () => 0 });
  const client = new RunPodRestClient({
    baseUrl: "https://api.example/v2",
    apiKey: "rpa_TEST",
    fetch: fakeFetch,
    budget,
    nowMs: () => time.now,
  });
  return { time, sent, client };
}

describe("the rate budget serves terminations first", () => {
  it("with the minute down to its reserve and listings, billing reads and creates waiting, a DELETE is sent at once and before every one of them", async () => {
    const { time, sent, client } = system();
    await client.listPods(); // RunPod's answer: 12 calls left in this minute
    expect(sent).toHaveLength(1);

    // every worker's monitor and reconcile list, the billing jobs read bills, deploy jobs create
    const waiting: Array<Promise<unknown>> = [
      ...Array.from({ length: 12 }, () => client.listPods()),
      ...Array.from({ length: 2 }, () =>
        client.podBilling({ podId: "p0", startTime: new Date(T0), endTime: new Date(T0) }),
      ),
      ...Array.from({ length: 4 }, () =>
        client.createPod({ name: "trainpod-d2", image: "img", gpu: { id: "NVIDIA A40", count: 1 }, args: "" }),
      ),
    ];
    await time.runUntil(() => false, 1_000);
    const sentBefore = sent.length;

    // a run reports its outcome: its pod must be deleted now, not when the minute starts again
    const askedAt = time.now;
    let deleted = false;
    const deleting = client.terminatePod("p1").then((r) => {
      deleted = true;
      return r;
    });
    await time.runUntil(() => deleted, 120_000);
    await expect(deleting).resolves.toEqual({ alreadyGone: false });

    const del = sent.findIndex((s) => s.call === "DELETE /pods/{id}");
    expect(sent[del]?.at).toBe(askedAt); // no wait at all
    // everything that still waited when the DELETE was asked for went after it
    expect(del).toBe(sentBefore);
    // and the listings left the terminations' share alone: some of them waited too
    expect(sent.slice(1, sentBefore).filter((s) => s.call === "GET /pods").length).toBeLessThan(12);

    await time.runUntil(() => sent.length === 1 + waiting.length + 1, 600_000);
    await Promise.all(waiting);
  });
});

describe("priorities, one decision at a time", () => {
  it("at 60 a minute, normal calls leave 12 and the listings 6: the terminations' own share", () => {
    expect(reserveOf(60, DEFAULT_BUDGET_RULES)).toBe(12);
    expect(terminationReserveOf(60, DEFAULT_BUDGET_RULES)).toBe(6);
    // never more than the reserve it is part of
    expect(terminationReserveOf(60, { ...DEFAULT_BUDGET_RULES, terminationReservePercent: 50 })).toBe(12);
  });

  const priorities: CallPriority[] = ["urgent", "high", "normal"];
  const rulesArb: fc.Arbitrary<BudgetRules> = fc.record({
    defaultPolicy: fc.constant([{ name: "w", q: 10, w: 10 }]),
    reservePercent: fc.integer({ min: 0, max: 60 }),
    terminationReservePercent: fc.integer({ min: 0, max: 60 }),
    spreadPercent: fc.integer({ min: 0, max: 100 }),
    resetPadMs: fc.constant(0),
    resetSlackMs: fc.constant(500),
    defaultRetryAfterMs: fc.constant(1_000),
  });
  const op = fc.oneof(
    fc.record({ advance: fc.integer({ min: 0, max: 4_000 }) }),
    fc.record({ take: fc.constantFrom(...priorities) }),
    fc.record({ left: fc.integer({ min: 0, max: 10 }) }),
  );

  it("a call is refused only when every call of a lower priority would be too, in any state", () => {
    fc.assert(
      fc.property(rulesArb, fc.array(op, { maxLength: 40 }), (rules, ops) => {
        let state: BudgetState | null = null;
        let now = T0;
        for (const o of ops) {
          if ("advance" in o) now += o.advance;
          else if ("take" in o) state = decide(state, now, o.take, rules).state;
          else state = learn(state, now, { status: 200, limits: [{ name: "w", r: o.left }] }, rules);
        }
        const granted = priorities.map((p) => decide(state, now, p, rules).decision.granted);
        // urgent ≥ high ≥ normal
        expect(granted).toEqual([...granted].sort((a, b) => Number(b) - Number(a)));
      }),
      { numRuns: 300 },
    );
  });
});
