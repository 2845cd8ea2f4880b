import { ManualClock, monitorTick, RunPodRestClient, deployDeployment, type LifecycleDeps } from "@trainpod/core";
import { makeDeployment } from "../factories";
import { startSystem, type System } from "../support/system";
import { TestClient, until } from "./support/client";

let sys: System;
let user: TestClient;

/** The monitor with a clock moved ahead: deadlines without waiting minutes. The worker's own monitor runs on real time. */
function tickAt(offsetMs: number) {
  const clock = new ManualClock(Date.now() + offsetMs);
  const deps: LifecycleDeps = { ...sys.deps.lifecycle, clock };
  // heartbeats and stalls (a step's age) are judged on real time by the worker's own monitor; here only the deadlines
  return monitorTick(deps, { ...sys.deps.monitor, heartbeatTimeoutMs: 24 * 3600_000, stallTimeoutMs: 0 });
}

const owner = async () => ({
  userId: (await sys.db.prisma.user.findFirstOrThrow({ where: { email: "deadlines@example.com" } })).id,
  datasetId: user.datasetId,
});

beforeAll(async () => {
  sys = await startSystem({
    env: { HEARTBEAT_TIMEOUT_SECONDS: "2", STALL_TIMEOUT_SECONDS: "3", MONITOR_INTERVAL_MS: "500" },
  });
  user = await TestClient.create(sys, "deadlines@example.com");
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

describe("deadlines and the monitor", () => {
  it("a pod that goes silent (its machine hangs) is caught within one interval plus the heartbeat timeout", async () => {
    const sub = await user.submit({ steps: 3, sim_step_ms: 600_000 });
    const running = await until("running", async () => {
      const d = await user.get(sub.body.id);
      return d.status === "RUNNING" && d.pod?.id ? d : null;
    });
    // the agent heartbeats whatever its trainer does: only a pod that sends nothing at all is silent
    const frozen = await sys.sim.admin(`/admin/pods/${running.pod.id}/freeze`, { method: "POST" });
    expect(frozen.status).toBe(200);
    const d = await user.settled(sub.body.id);
    expect(d.failureReason).toBe("HEARTBEAT_TIMEOUT");
    const silentFor = Date.parse(d.timestamps.finishedAt) - Date.parse(d.timestamps.lastHeartbeatAt);
    process.stdout.write(`silent pod detected after ${silentFor} ms (heartbeat timeout 2000 ms + interval 500 ms)\n`);
    expect(silentFor).toBeLessThan(2000 + 500 + 1000);
    expect((await user.simPod(d.pod.id)).status).toBe("TERMINATED");
  });

  it("a trainer that is alive but stuck is TRAINING_STALLED, not a dead pod: its heartbeats kept coming", async () => {
    const sub = await user.submit({ steps: 3, sim_step_ms: 1, sim_hang_at_step: 2 });
    const d = await user.settled(sub.body.id);
    expect(d.failureReason).toBe("TRAINING_STALLED");
    expect(d.failureMessage).toMatch(/no training step for 3 s \(the pod is alive/);
    const events = await sys.db.prisma.deploymentEvent.findMany({ where: { deploymentId: d.id } });
    const steps = events.filter((e) => e.type === "progress").map((e) => (e.data as { step: number }).step);
    expect(steps).toEqual([1]);
    // heartbeats arrived until the end: the last one is more recent than the last step
    expect(Date.parse(d.timestamps.lastHeartbeatAt)).toBeGreaterThan(Date.parse(d.timestamps.trainingStartedAt) + 2000);
  });

  it("setup timeout, max runtime and max cost each terminate", async () => {
    await sys.sim.admin("/admin/config", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ bootDelayMs: 600_000 }),
    });
    const setup = await user.submit({ steps: 3 }, { setupTimeoutMinutes: 10 });
    await until("provisioning", async () => (await user.get(setup.body.id)).status === "PROVISIONING");
    await sys.sim.admin("/admin/config", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ bootDelayMs: 100 }),
    });
    const runtime = await user.submit({ steps: 1000, sim_step_ms: 400 }, { maxRuntimeMinutes: 30 });
    // pre-flight: $0.01 covers the 1-minute setup timeout on an A40 ($0.40/h × 60 s = $0.0067)
    const budget = await user.submit(
      { steps: 1000, sim_step_ms: 400 },
      { maxCostUsd: "0.01", maxRuntimeMinutes: 600, setupTimeoutMinutes: 1, gpuTypeIds: ["NVIDIA A40"] },
    );
    await until(
      "running",
      async () =>
        (await user.get(runtime.body.id)).status === "RUNNING" && (await user.get(budget.body.id)).status === "RUNNING",
    );
    // both in their train phase, as a CI run once had them when it ticked: a step 2 min ago is no stall here
    await until("training", async () => {
      const views = [await user.get(runtime.body.id), await user.get(budget.body.id)];
      return views.every((d) => d.phase?.name === "train" && d.phase.state !== "ended");
    });

    // 2 min later: $0.40/h × 120 s = $0.013 > $0.01 budget
    expect((await tickAt(2 * 60_000)).failed).toEqual(
      expect.arrayContaining([{ deploymentId: budget.body.id, reason: "BUDGET_EXCEEDED" }]),
    );
    // 11 min later: the pod that never booted is past its 10-minute setup timeout
    expect((await tickAt(11 * 60_000)).failed).toEqual(
      expect.arrayContaining([{ deploymentId: setup.body.id, reason: "SETUP_TIMEOUT" }]),
    );
    // 31 min later: past maxRuntimeMinutes
    expect((await tickAt(31 * 60_000)).failed).toEqual(
      expect.arrayContaining([{ deploymentId: runtime.body.id, reason: "MAX_RUNTIME_EXCEEDED" }]),
    );

    for (const id of [setup.body.id, runtime.body.id, budget.body.id]) {
      const d = await user.settled(id);
      expect(d.status).toBe("FAILED");
      expect((await user.simPod(d.pod.id)).status).toBe("TERMINATED");
    }
  });

  it("no capacity is retried while the wait lasts, then fails the deployment as NO_CAPACITY", async () => {
    await sys.sim.admin("/admin/config", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ capacity: { "NVIDIA H100 80GB HBM3": 0 } }),
    });
    const { id } = await makeDeployment(sys.db.prisma, await owner(), { gpuTypeIds: ["NVIDIA H100 80GB HBM3"] });
    // within the wait: a retryable error, the deployment stays QUEUED
    await expect(deployDeployment(sys.deps.lifecycle, id, 1)).rejects.toMatchObject({
      code: "RUNPOD_NO_CAPACITY",
      retryable: true,
    });
    expect((await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).status).toBe("QUEUED");
    // past the wait: final, FAILED / NO_CAPACITY, and no pod anywhere
    await expect(deployDeployment({ ...sys.deps.lifecycle, noCapacityMaxWaitMs: 0 }, id, 2)).rejects.toMatchObject({
      retryable: false,
    });
    const d = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } });
    expect(d).toMatchObject({ status: "FAILED", failureReason: "NO_CAPACITY", podId: null, attempts: 2 });
    // closed at zero cost: there never was a pod
    const closed = await until("closed", async () => {
      const row = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } });
      return row.podTerminatedAt ? row : null;
    });
    expect(closed).toMatchObject({ costMicros: 0n, runtimeSeconds: 0 });
  });

  it("a crash between creating the pod and recording it does not make a second pod", async () => {
    // the crashed worker had marked that it was about to create (podRequestedAt), then created the pod, then died
    const { id } = await makeDeployment(sys.db.prisma, await owner(), { podRequestedAt: new Date() });
    const runpod = new RunPodRestClient({ baseUrl: sys.sim.apiUrl, apiKey: "k" });
    const name = `${sys.config.env.POD_NAME_PREFIX}${id}`;
    const orphan = await runpod.createPod({ name, image: "img", gpu: { id: "NVIDIA GeForce RTX 4090", count: 1 } });
    // the retried deploy job adopts it, twice over, billed from RunPod's createdAt
    expect(await deployDeployment(sys.deps.lifecycle, id, 2)).toBe("adopted");
    expect((await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).podCreatedAt?.toISOString()).toBe(
      orphan.createdAt,
    );
    expect(await deployDeployment(sys.deps.lifecycle, id, 3)).toBe("already-provisioned");
    const pods = (await runpod.listPods({ namePrefix: name })).filter((p) => p.name === name);
    expect(pods.map((p) => p.id)).toEqual([orphan.id]);
    const d = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } });
    expect(d.podId).toBe(orphan.id);
    await sys.deps.lifecycle.jobs.terminate(id, "test cleanup");
    await until(
      "terminated",
      async () => (await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).podTerminatedAt,
    );
  });

  it("a pod we created is billed from RunPod's createdAt, not from before a slow create's wait (issue 14: cost within 1 s of price)", async () => {
    const patch = (body: unknown) =>
      sys.sim.admin("/admin/config", {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const { id } = await makeDeployment(sys.db.prisma, await owner());
    // every create waits 2 s before RunPod handles it (well within the client's timeout): the pod exists, and bills, from then
    await patch({ faults: { slow: 1, slowMs: 2000, methods: ["POST"], routes: ["/v2/pods"] } });
    try {
      expect(await deployDeployment(sys.deps.lifecycle, id, 1)).toBe("provisioned");
    } finally {
      await patch({ faults: { slow: 0, slowMs: 0, methods: [], routes: [] } });
    }
    const d = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } });
    const pod = (await (await sys.sim.admin(`/admin/pods/${d.podId ?? ""}`)).json()) as { createdAt: string };
    const off = Math.abs((d.podCreatedAt?.getTime() ?? 0) - Date.parse(pod.createdAt));
    expect({ off, within: off < 500 }).toEqual({ off, within: true });
    await sys.deps.lifecycle.jobs.terminate(id, "test cleanup");
    await until(
      "terminated",
      async () => (await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).podTerminatedAt,
    );
  });
});
