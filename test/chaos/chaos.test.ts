/**
 * The short chaos run of CI (`npm run chaos` is the long one): 16 deployments with RunPod faults
 * (429/5xx/dropped answers, 3 s slow answers (the long run's 6 s outlive the client's timeout), creates that make the pod
 * and answer 500, listings that leave live pods out), a capacity outage, an orphan pod, a vanished pod
 * and 3 SIGKILLed worker processes; then 8 more through a Redis restart. The workers run with BullMQ's
 * default lock and stalled check (30 s each), like production; the monitor ticks every second here
 * (production: 5 s) to keep the test short. Every invariant must hold: healthy runs failed = 0, cost
 * per deployment within 1 s of price of the simulator's bill, outcome → DELETE p99 ≤ 10 s.
 */
import { runChaos } from "../../scripts/chaos/chaos";
import { describe as describeFigures, passed } from "../../scripts/chaos/run";

jest.setTimeout(240_000);

it("nothing lost, no healthy run failed, nothing left running, every cost right, pods deleted within 10 s, through worker kills and a Redis restart", async () => {
  const lines: string[] = [];
  const results = await runChaos({
    deployments: 16,
    redisPhaseDeployments: 8,
    workers: 2,
    kills: 3,
    killEveryMs: 1500,
    redisRestarts: 1,
    capacityOutages: 1,
    capacityOutageMs: 1500,
    orphans: 1,
    vanish: 1,
    faultRate: 0.05,
    createThenFailRate: 0.2,
    omitFromListRate: 0.1,
    // below the client's 5 s timeout here: an answer that outlives it leaves the DELETE's landing time unknown
    // within the call (the long run, `npm run chaos`, keeps 6 s and reports that residual)
    slowMs: 3000,
    seed: 7,
    window: 30,
    timeoutMs: 150_000,
    settleMs: 75_000,
    timings: { monitorMs: 1000, reconcileMs: 1000, requeueAfterMs: 5000 },
    log: (line) => lines.push(line),
  });
  const report = describeFigures(results).join("\n");
  // the whole report when anything fails
  expect(passed(results, 3) ? "" : report).toBe("");
  const [workers, redis] = results;
  expect(workers?.kills).toBeGreaterThanOrEqual(3);
  expect(workers?.invariants.orphans.found).toBeGreaterThanOrEqual(1);
  expect(workers?.podVanished).toBe(1);
  expect(redis?.faults.createThenFail).toBeGreaterThanOrEqual(1);
  expect(redis?.faults.omitFromList).toBeGreaterThanOrEqual(1);
  expect(redis?.adopted).toBeGreaterThanOrEqual(1);
  expect(redis?.redisRestarts).toBe(1);
  expect(redis?.invariants.deployments).toBe(24);
  for (const phase of results) {
    const inv = phase.invariants;
    expect(inv.healthy).toBeGreaterThan(0);
    expect(inv.healthyFailed).toEqual([]);
    expect(inv.costMismatches).toEqual([]);
    expect(inv.maxCostDiffSeconds).toBeGreaterThanOrEqual(0);
    expect(inv.maxCostDiffSeconds).toBeLessThanOrEqual(1);
    expect(inv.outcomeToDelete.n).toBeGreaterThan(0);
    expect(inv.outcomeToDelete.p99).toBeLessThanOrEqual(10_000);
  }
});
