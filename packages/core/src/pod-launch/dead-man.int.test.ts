import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  adminPod,
  createPod,
  deleteLeftoverPods,
  expectSequenced,
  pause,
  podLog,
  selfTerminatedWith,
  selfTerminationLines,
  timeline,
  waitForPod,
  type PodOptions,
} from "../../../../test/support/agent-pods";
import { FakeRunApi } from "../../../../test/support/fake-run-api";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";

// The pod agent's dead-man switch, on the RunPod simulator (real processes, RunPod's default restart policy: a
// container that exits is restarted) with no trainpod worker at all: nobody but the pod itself deletes these pods.
// A small HTTP server stands in for the trainpod API (test/support/fake-run-api.ts: the agent's zipapp, the
// dataset, run events checked with the API's own schema, artifact uploads).

/** a trainer that reports step 1, then hangs for ever at step 2 (alive, silent) */
const HANGING_TRAINER = { steps: 3, sim_step_ms: 20, sim_hang_at_step: 2 };

const api = new FakeRunApi();
let sim: SimProcess;
/** a port nothing listens on: an API that cannot be reached */
let closedPort: number;

beforeAll(async () => {
  await api.listen();
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0", SIM_RESTART_DELAY_MS: "200" });
}, 30_000);

afterAll(async () => {
  if (sim) await deleteLeftoverPods(sim, api);
  await sim?.stop();
  await api.close();
}, 30_000);

/** Creates a pod running start.sh and the agent with the switch set as given; a heartbeat every half second. */
const launch = (name: string, selfTerminate: PodOptions["selfTerminate"], opts: Partial<PodOptions> = {}) =>
  createPod(sim, api, api.add(name), {
    selfTerminate,
    heartbeatSeconds: 0.5,
    hyperparameters: { steps: 2, sim_step_ms: 20 },
    ...opts,
  });

const terminated = (id: string, seen?: string[]) =>
  waitForPod(sim, id, "TERMINATED", (p) => p.status === "TERMINATED", 40_000, seen);

/** Terminated, and RunPod's meter for it stopped: the same cost a second and a half later. */
async function expectBillingStopped(id: string): Promise<void> {
  const at = await adminPod(sim, id);
  await pause(1500);
  const later = await adminPod(sim, id);
  expect(later.status).toBe("TERMINATED");
  expect(later.accruedCostMicros).toBeGreaterThan(0);
  expect([later.accruedCostMicros, later.billedSeconds]).toEqual([at.accruedCostMicros, at.billedSeconds]);
}

describe("the pod agent's dead-man switch (no worker: the pod ends itself)", () => {
  it("a pod that reported completed and is never deleted by the worker deletes itself after the grace; billing stops", async () => {
    const id = await launch("completed", { graceSeconds: 2, maxRuntimeSeconds: 3600, unreachableSeconds: 900 });
    const r = api.run("completed");
    const end = Date.now() + 20_000;
    while (!r.events.some((e) => e.type === "completed")) {
      if (Date.now() > end) throw new Error(`no completed report; log tail:\n${(await podLog(sim, id)).slice(-2500)}`);
      await pause(50);
    }
    const completedAt = Date.now();
    // the pod waits for the worker's DELETE first: still running once its outcome is in, gone after the grace
    const seen: string[] = [];
    const pod = await terminated(id, seen);
    expect(seen[0]).toBe("RUNNING");
    expect(Date.now() - completedAt).toBeGreaterThanOrEqual(1500);
    // never restarted (the agent waited instead of exiting: RunPod would restart it), and it said why it went
    expect(selfTerminatedWith(pod, r, 2)).toBe(0);
    expect(r.rejected).toEqual([]);
    expectSequenced(r);
    expect(await podLog(sim, id)).not.toMatch(/self-termination failed/);
    await expectBillingStopped(id);
  }, 45_000);

  it("an API that cannot be reached, and no worker: the watchdog deletes the pod after the unreachable time", async () => {
    const id = await launch(
      "unreachable",
      { graceSeconds: 60, maxRuntimeSeconds: 3600, unreachableSeconds: 2 },
      { hyperparameters: HANGING_TRAINER, eventsUrl: `http://127.0.0.1:${closedPort}/runs/unreachable/events` },
    );
    await terminated(id);
    const log = await podLog(sim, id);
    expect(log).toMatch(/ self-terminating: no report reached the API for \d+ s/);
    expect(log).not.toMatch(/self-terminating: (max runtime|outcome)/);
    expect(api.run("unreachable").events).toEqual([]);
    await expectBillingStopped(id);
  }, 60_000);

  it("a trainer that hangs: the watchdog deletes the pod at max runtime + grace, and says so to the API", async () => {
    const id = await launch(
      "hang",
      { graceSeconds: 2, maxRuntimeSeconds: 3, unreachableSeconds: 900 },
      { hyperparameters: HANGING_TRAINER },
    );
    await terminated(id);
    const r = api.run("hang");
    expect(r.rejected).toEqual([]);
    expectSequenced(r);
    // it was training, and reporting, when it ended: step 1, then nothing from the trainer, no outcome
    const steps = timeline(r);
    expect(steps).toContain("dataset_downloaded");
    expect(steps.slice(steps.indexOf("train:started"))).toEqual(["train:started", "progress"]);
    expect(await podLog(sim, id)).toMatch(/ step 2: hanging \(sim\)\n/);
    // liveness is not progress: the heartbeats went on while the trainer hung
    const afterStep1 = r.events.slice(r.events.findIndex((e) => e.type === "progress"));
    expect(afterStep1.filter((e) => e.type === "heartbeat").length).toBeGreaterThanOrEqual(3);
    expect(selfTerminationLines(r)).toEqual([
      expect.stringMatching(
        /^\S+ self-terminating: max runtime 3 s \+ grace 2 s reached \(\d+ s since the pod first started\)$/,
      ),
    ]);
    await expectBillingStopped(id);
  }, 60_000);
});
