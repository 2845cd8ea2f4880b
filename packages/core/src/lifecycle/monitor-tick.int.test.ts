import { createTestDatabase, type TestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { openTestQueues, type TestQueues } from "../../../../test/support/test-redis";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { captureLogger } from "../../../../test/support/test-config";
import { until } from "../../../../test/support/until";
import { createJobEnqueuer } from "../jobs/enqueuer";
import { RunPodRestClient } from "../runpod";
import { systemClock } from "../time/clock";
import type { LifecycleDeps } from "./deps";
import { monitorTick } from "./monitor-tick";

// monitorTick against the v2 simulator over HTTP and a real database: one listing judges every live
// pod; RunPod's RUNNING does not move a deployment (the pod's own report does); ERROR and a vanished
// pod fail their deployment with the right reason; the cost so far of every live pod is written.
let db: TestDatabase;
let sim: SimProcess;
let q: TestQueues;
const PREFIX = "tp-monitor-test-";

beforeAll(async () => {
  [db, sim] = await Promise.all([createTestDatabase(), startSimProcess({ SIM_BOOT_DELAY_MS: "0" })]);
  q = openTestQueues();
});
afterAll(async () => {
  await q?.close();
  await Promise.all([db?.drop(), sim?.stop()]);
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

const settings = { heartbeatTimeoutMs: 60_000, requeueAfterMs: 60_000 };

describe("monitorTick", () => {
  it("judges every live pod from one listing: running ones stay, ERROR is POD_ERROR, a missing one POD_VANISHED", async () => {
    const client = deps().runpod;
    const { user } = await makeUser(db.prisma);
    const ds = await makeDataset(db.prisma, user.id);
    const live: string[] = [];
    const create = async (image: string): Promise<string> => {
      const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id });
      const pod = await client.createPod({ name: `${PREFIX}${d.id}`, image, gpu: { id: "NVIDIA GeForce RTX 4090", count: 1 }, args: "sleep 30" });
      const at = new Date(Date.now() - 60_000);
      await db.prisma.deployment.update({ where: { id: d.id }, data: { status: "PROVISIONING", podId: pod.id, provisioningAt: at, podCreatedAt: at, costPerHrMicros: 690_000n } });
      return d.id;
    };
    for (let i = 0; i < 4; i++) live.push(await create("img"));
    const broken = await create("sim/unpullable-image:latest");
    const gone = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id }, { status: "PROVISIONING", podId: "no-such-pod", provisioningAt: new Date() });
    await until("pods up or in error", async () => {
      const pods = await client.listPods({ namePrefix: PREFIX });
      return pods.filter((p) => p.status === "RUNNING").length === 4 && pods.some((p) => p.status === "ERROR");
    });

    const tick = await monitorTick(deps(), settings);
    expect(tick.pods).toBe(5);
    expect(tick.failed).toEqual(expect.arrayContaining([{ deploymentId: gone.id, reason: "POD_VANISHED" }, { deploymentId: broken, reason: "POD_ERROR" }]));
    expect(tick.failed).toHaveLength(2);
    const rows = await db.prisma.deployment.findMany({ where: { id: { in: live } } });
    expect(rows.map((r) => r.status)).toEqual(Array(4).fill("PROVISIONING"));
    // 60 s at $0.69/h, written in the tick's one UPDATE
    expect(rows.every((r) => (r.costMicros ?? 0n) >= 11_500n)).toBe(true);
    for (const r of rows) await client.terminatePod(r.podId ?? "");
  });
});
