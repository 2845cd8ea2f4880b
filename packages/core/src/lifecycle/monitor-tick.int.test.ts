import { useTestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { openTestQueues, type TestQueues } from "../../../../test/support/test-redis";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { captureLogger } from "../../../../test/support/test-config";
import { until } from "../../../../test/support/until";
import { createJobEnqueuer } from "../jobs/enqueuer";
import { RunPodRestClient } from "../runpod";
import { ManualClock, systemClock } from "../time/clock";
import type { LifecycleDeps } from "./lifecycle-deps";
import { monitorTick } from "./monitor-tick";
import { terminateDeployment } from "./terminate-pod";
import { reconcile } from "./reconcile-pods";

// monitorTick against the v2 simulator over HTTP and a real database: one listing judges every live
// pod; RunPod's RUNNING does not move a deployment (the pod's own report does); ERROR and a vanished
// pod fail their deployment with the right reason; the cost so far of every live pod is written.
const db = useTestDatabase();
let sim: SimProcess;
let q: TestQueues;
const PREFIX = "tp-monitor-test-";

beforeAll(async () => {
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0" });
  q = openTestQueues();
});
afterAll(async () => {
  await q?.close();
  await sim?.stop();
});

function deps(): LifecycleDeps {
  return {
    prisma: db.prisma,
    runpod: new RunPodRestClient({ baseUrl: sim.apiUrl, apiKey: "sim" }),
    clock: systemClock,
    jobs: createJobEnqueuer(q.queues),
    logger: captureLogger("monitor").logger,
    podNamePrefix: PREFIX,
    noCapacityMaxWaitMs: 60_000,
    gpuCatalog: () => Promise.resolve(null),
    buildLaunch: () => Promise.reject(new Error("not used")),
    revokeTokens: () => Promise.resolve(),
  };
}

const settings = {
  heartbeatTimeoutMs: 60_000,
  stallTimeoutMs: 1_800_000,
  requeueAfterMs: 60_000,
  terminateSweepAfterMs: 3_000,
};

/** A deployment of a fresh user (its `over` fields set) and a real sim pod named for it, running `args`. */
async function deploymentWithPod(over: Parameters<typeof makeDeployment>[2] = {}, args = "sleep 60") {
  const { user } = await makeUser(db.prisma);
  const ds = await makeDataset(db.prisma, user.id);
  const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id }, over);
  const pod = await deps().runpod.createPod({
    name: `${PREFIX}${d.id}`,
    image: "img",
    gpu: { id: "NVIDIA A40", count: 1 },
    args,
  });
  return { d, pod };
}

const simConfig = async (patch: Record<string, unknown>): Promise<void> => {
  const res = await sim.admin("/admin/config", {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  if (res.status !== 200) throw new Error(`sim config: ${res.status} ${await res.text()}`);
};

describe("monitorTick", () => {
  it("judges every live pod from one listing: running ones stay, ERROR is POD_ERROR, a missing one POD_VANISHED", async () => {
    const client = deps().runpod;
    const { user } = await makeUser(db.prisma);
    const ds = await makeDataset(db.prisma, user.id);
    const live: string[] = [];
    const create = async (image: string): Promise<string> => {
      const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id });
      const pod = await client.createPod({
        name: `${PREFIX}${d.id}`,
        image,
        gpu: { id: "NVIDIA GeForce RTX 4090", count: 1 },
        args: "sleep 30",
      });
      const at = new Date(Date.now() - 60_000);
      await db.prisma.deployment.update({
        where: { id: d.id },
        data: {
          status: "PROVISIONING",
          podId: pod.id,
          provisioningAt: at,
          podCreatedAt: at,
          costPerHrMicros: 690_000n,
        },
      });
      return d.id;
    };
    for (let i = 0; i < 4; i++) live.push(await create("img"));
    const broken = await create("sim/unpullable-image:latest");
    // created past POD_VANISH_GRACE_SECONDS ago: a 404 by id is believed (a younger one: the test below)
    const gone = await makeDeployment(
      db.prisma,
      { userId: user.id, datasetId: ds.id },
      { status: "PROVISIONING", podId: "no-such-pod", provisioningAt: new Date(Date.now() - 600_000) },
    );
    await until("pods up or in error", async () => {
      const pods = await client.listPods({ namePrefix: PREFIX });
      return pods.filter((p) => p.status === "RUNNING").length === 4 && pods.some((p) => p.status === "ERROR");
    });

    const tick = await monitorTick(deps(), settings);
    expect(tick.pods).toBe(5);
    expect(tick.failed).toEqual(
      expect.arrayContaining([
        { deploymentId: gone.id, reason: "POD_VANISHED" },
        { deploymentId: broken, reason: "POD_ERROR" },
      ]),
    );
    expect(tick.failed).toHaveLength(2);
    const rows = await db.prisma.deployment.findMany({ where: { id: { in: live } } });
    expect(rows.map((r) => r.status)).toEqual(Array(4).fill("PROVISIONING"));
    // 60 s at $0.69/h, written in the tick's one UPDATE
    expect(rows.every((r) => (r.costMicros ?? 0n) >= 11_500n)).toBe(true);
    for (const r of rows) await client.terminatePod(r.podId ?? "");
    await db.prisma.deployment.updateMany({
      where: { id: { in: live } },
      data: { status: "CANCELLED", podTerminatedAt: new Date() },
    });
  });

  it("a pod missing from one listing is asked for by id before anything is failed (RunPod's list can lag)", async () => {
    const client = deps().runpod;
    const { user } = await makeUser(db.prisma);
    const ds = await makeDataset(db.prisma, user.id);
    const at = new Date();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id });
      const pod = await client.createPod({
        name: `${PREFIX}${d.id}`,
        image: "img",
        gpu: { id: "NVIDIA A40", count: 1 },
        args: "sleep 30",
      });
      await db.prisma.deployment.update({
        where: { id: d.id },
        data: {
          status: "RUNNING",
          podId: pod.id,
          provisioningAt: at,
          podCreatedAt: at,
          runningAt: at,
          lastHeartbeatAt: at,
          costPerHrMicros: 400_000n,
        },
      });
      ids.push(d.id);
    }
    // every live pod is left out of every listing: a healthy run must not be failed for it
    await simConfig({ faults: { omitFromList: 1 } });
    try {
      const tick = await monitorTick(deps(), settings);
      expect(tick.failed.filter((f) => ids.includes(f.deploymentId))).toEqual([]);
      expect(tick.listingMisses).toBeGreaterThanOrEqual(3);
      const rows = await db.prisma.deployment.findMany({ where: { id: { in: ids } } });
      expect(rows.map((r) => r.status)).toEqual(["RUNNING", "RUNNING", "RUNNING"]);
      // a pod that is really gone (404 on GET) is still POD_VANISHED
      const goneId = rows[0]?.podId ?? "";
      await client.terminatePod(goneId);
      const second = await monitorTick(deps(), settings);
      expect(second.failed.filter((f) => ids.includes(f.deploymentId))).toEqual([
        { deploymentId: rows[0]?.id, reason: "POD_VANISHED" },
      ]);
    } finally {
      await simConfig({ faults: { omitFromList: 0 } });
      for (const r of await db.prisma.deployment.findMany({ where: { id: { in: ids } } }))
        await client.terminatePod(r.podId ?? "");
    }
  });

  it("a pod created seconds ago that the listing misses and GET by id answers 404 for is failed only after the grace (RunPod promises no read-after-create)", async () => {
    const client = deps().runpod;
    const { d, pod } = await deploymentWithPod();
    const createdAt = new Date();
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: { status: "PROVISIONING", podId: pod.id, provisioningAt: createdAt, podCreatedAt: createdAt },
    });
    // what a lagging RunPod shows a fresh pod's reader: not in the listing, 404 by id
    await client.terminatePod(pod.id);
    const young = await monitorTick(deps(), settings);
    expect(young.failed.filter((f) => f.deploymentId === d.id)).toEqual([]);
    expect((await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).status).toBe("PROVISIONING");
    // POD_VANISH_GRACE_SECONDS (3 min by default) later it is still 404: gone
    const later = { ...deps(), clock: new ManualClock(createdAt.getTime() + 181_000) };
    const old = await monitorTick(later, settings);
    expect(old.failed.filter((f) => f.deploymentId === d.id)).toEqual([{ deploymentId: d.id, reason: "POD_VANISHED" }]);
  });

  it("a closed deployment whose pod is still up past the sweep delay is terminated by the tick itself (its terminate job may be held by a killed worker)", async () => {
    const client = deps().runpod;
    const { d, pod } = await deploymentWithPod();
    const at = new Date(Date.now() - 20_000);
    // the outcome was recorded 10 s ago; its terminate job never ran (no job at all here: as if a dead worker held it)
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: {
        status: "FAILED",
        failureReason: "TRAINING_FAILED",
        failureMessage: "exit 1",
        podId: pod.id,
        podCreatedAt: at,
        provisioningAt: at,
        runningAt: at,
        finishedAt: new Date(Date.now() - 10_000),
        costPerHrMicros: 400_000n,
      },
    });
    const tick = await monitorTick(deps(), settings);
    expect(tick.swept).toContain(d.id);
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row.podTerminatedAt).not.toBeNull();
    expect(await client.getPod(pod.id)).toBeNull();
  });

  it("sweeps overdue terminations even when the listing fails (it does not wait on RunPod's list)", async () => {
    const client = deps().runpod;
    const { d, pod } = await deploymentWithPod();
    const at = new Date(Date.now() - 20_000);
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: {
        status: "SUCCEEDED",
        podId: pod.id,
        podCreatedAt: at,
        provisioningAt: at,
        runningAt: at,
        finishedAt: new Date(Date.now() - 10_000),
        costPerHrMicros: 400_000n,
      },
    });
    // every listing answers 5xx (GET /v2/pods only: the DELETE goes through); no retries, so the tick fails at once
    await simConfig({ faults: { serverError: 1, methods: ["GET"], routes: ["/v2/pods"] } });
    try {
      await expect(
        monitorTick(
          { ...deps(), runpod: new RunPodRestClient({ baseUrl: sim.apiUrl, apiKey: "sim", maxRetries: 0 }) },
          settings,
        ),
      ).rejects.toMatchObject({ code: "RUNPOD_UNAVAILABLE" });
    } finally {
      await simConfig({ faults: { serverError: 0, methods: [], routes: [] } });
    }
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row.podTerminatedAt).not.toBeNull();
    expect(await client.getPod(pod.id)).toBeNull();
  });
});

describe("terminateDeployment after a worker died between DELETE and record", () => {
  it("bills up to the first DELETE, not to when a later attempt finds the pod gone", async () => {
    const client = deps().runpod;
    const { d, pod } = await deploymentWithPod();
    const firstAt = new Date();
    const created = new Date(firstAt.getTime() - 60_000);
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: {
        status: "SUCCEEDED",
        podId: pod.id,
        podCreatedAt: created,
        provisioningAt: created,
        finishedAt: new Date(),
        costPerHrMicros: 3_600_000n,
      },
    });
    // the first attempt: its DELETE lands, then the worker is killed before it records anything
    const killed = {
      ...deps(),
      clock: new ManualClock(firstAt.getTime()),
      revokeTokens: () => Promise.reject(new Error("SIGKILL")),
    };
    await expect(terminateDeployment(killed, d.id, "completed")).rejects.toThrow("SIGKILL");
    expect(await client.getPod(pod.id)).toBeNull();
    // the job is taken over 60 s later: the pod is gone (404), and its cost ends at the first DELETE
    await terminateDeployment({ ...deps(), clock: new ManualClock(firstAt.getTime() + 60_000) }, d.id, "completed");
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    // 60 s at $3.60/h = 60,000 µ$; billed to the recorded end it would be 120 s = 120,000 µ$
    expect(row.costMicros).toBe(60_000n);
    expect(row.podTerminatedAt?.getTime()).toBe(firstAt.getTime());
  });
});

describe("terminateDeployment whose own DELETE finds the pod gone", () => {
  it("bills to the end of this call when no earlier call asked (a slow DELETE answered by its retry's 404)", async () => {
    const client = deps().runpod;
    const { d, pod } = await deploymentWithPod();
    const end = Date.now();
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: {
        status: "SUCCEEDED",
        podId: pod.id,
        podCreatedAt: new Date(end - 30_000),
        finishedAt: new Date(end),
        costPerHrMicros: 3_600_000n,
      },
    });
    await client.terminatePod(pod.id); // it went while this call's first attempt was on its way
    await terminateDeployment({ ...deps(), clock: new ManualClock(end) }, d.id, "completed");
    expect((await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).costMicros).toBe(30_000n);
  });
});

describe("a pod that deleted itself", () => {
  it("is recorded as terminatedBy POD, and still costed", async () => {
    const client = deps().runpod;
    const { d, pod } = await deploymentWithPod();
    const at = new Date(Date.now() - 30_000);
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: {
        status: "SUCCEEDED",
        podId: pod.id,
        podCreatedAt: at,
        provisioningAt: at,
        finishedAt: new Date(),
        costPerHrMicros: 400_000n,
      },
    });
    await db.prisma.deploymentEvent.create({
      data: {
        deploymentId: d.id,
        type: "log",
        data: { lines: ["2026-12-01T10:00:00Z self-terminating: outcome reported 120 s ago and the pod still runs"] },
      },
    });
    await client.terminatePod(pod.id); // the pod's own DELETE
    await terminateDeployment(deps(), d.id, "completed");
    const ev = await db.prisma.deploymentEvent.findFirstOrThrow({
      where: { deploymentId: d.id, type: "pod_terminated" },
    });
    expect(ev.data).toMatchObject({ alreadyGone: true, terminatedBy: "POD" });
    expect((await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).costMicros).toBeGreaterThan(0n);
  });
});

describe("reconcile and an orphan whose deployment closed before recording it", () => {
  it("charges the orphan's seconds to the deployment (a create whose answer was lost, then a cancel)", async () => {
    const { d, pod } = await deploymentWithPod({
      status: "CANCELLED",
      finishedAt: new Date(),
      podTerminatedAt: new Date(),
      costMicros: 0n,
      podRequestedAt: new Date(),
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = await reconcile(deps());
    expect(result.orphansTerminated).toContain(pod.id);
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    // at least 2 started seconds at $0.40/h
    expect(row.costMicros).toBeGreaterThanOrEqual(223n);
    const ev = await db.prisma.deploymentEvent.findFirstOrThrow({
      where: { deploymentId: d.id, type: "orphan_terminated" },
    });
    expect(ev.data).toMatchObject({ podId: pod.id, costMicros: String(row.costMicros) });
  });
});
