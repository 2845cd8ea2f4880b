/**
 * The short chaos run of CI (`npm run chaos` is the long one): 20 deployments with RunPod faults
 * (creates that make the pod and answer 500 among them: adopted by name, never a second pod),
 * a capacity outage, an orphan pod, a vanished pod and 3 SIGKILLed worker processes; then 10 more
 * through a Redis restart. Every invariant must hold.
 */
import { runChaos } from "../../scripts/chaos/chaos";
import { describe as describeFigures, passed } from "../../scripts/chaos/run";

jest.setTimeout(180_000);

it("nothing lost, nothing left running, every cost right, through worker kills and a Redis restart", async () => {
  const lines: string[] = [];
  const results = await runChaos({
    deployments: 20,
    redisPhaseDeployments: 10,
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
    seed: 7,
    window: 30,
    timeoutMs: 90_000,
    timings: { monitorMs: 500, reconcileMs: 1000, requeueAfterMs: 5000, lockMs: 4000, stalledMs: 1000 },
    log: (line) => lines.push(line),
  });
  const report = describeFigures(results).join("\n");
  expect({ ok: passed(results, 3), report }).toEqual({ ok: true, report });
  const [workers, redis] = results;
  expect(workers?.kills).toBeGreaterThanOrEqual(3);
  expect(workers?.invariants.orphans.found).toBeGreaterThanOrEqual(1);
  expect(workers?.podVanished).toBe(1);
  expect(workers?.faults.createThenFail).toBeGreaterThanOrEqual(1);
  expect(redis?.adopted).toBeGreaterThanOrEqual(1);
  expect(redis?.redisRestarts).toBe(1);
  expect(redis?.invariants.deployments).toBe(30);
});
