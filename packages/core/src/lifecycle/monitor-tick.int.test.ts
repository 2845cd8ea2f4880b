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

// monitorTick against the simulator over HTTP and a real database: the batched PROVISIONING → RUNNING
// move writes exactly one `running` event per deployment, and a second tick writes none.
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
    runpod: new RunPodRestClient({ baseUrl: sim.apiUrl, apiKey: "sim", rateLimitPerSecond: 1000 }),
    clock: systemClock,
    jobs: createJobEnqueuer(q.queues),
    logger: captureLogger("monitor").logger,
    podNamePrefix: PREFIX,
    noCapacityMaxWaitMs: 60_000,
    buildLaunch: () => Promise.reject(new Error("not used")),
    revokeTokens: () => Promise.resolve(),
  };
}

const settings = { heartbeatTimeoutMs: 60_000, requeueAfterMs: 60_000 };

describe("monitorTick", () => {
  it("moves every deployment whose pod is up to RUNNING in one go, one event each; a vanished pod fails", async () => {
    const client = deps().runpod;
    const { user } = await makeUser(db.prisma);
    const ds = await makeDataset(db.prisma, user.id);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id });
      const pod = await client.createPod({ name: `${PREFIX}${d.id}`, imageName: "img", gpuTypeIds: ["NVIDIA GeForce RTX 4090"], dockerStartCmd: ["sleep", "30"] });
      const now = new Date();
      await db.prisma.deployment.update({ where: { id: d.id }, data: { status: "PROVISIONING", podId: pod.id, provisioningAt: now, podCreatedAt: now, costPerHrMicros: 690_000n } });
      ids.push(d.id);
    }
    const gone = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id }, { status: "PROVISIONING", podId: "no-such-pod", provisioningAt: new Date() });
    // the sim reports lastStartedAt once a pod's container runs
    await until("pods started", async () => (await client.listPods({ namePrefix: PREFIX })).filter((p) => p.lastStartedAt).length === 5);

    const first = await monitorTick(deps(), settings);
    expect(first.running).toBe(5);
    expect(first.failed).toEqual([{ deploymentId: gone.id, reason: "POD_VANISHED" }]);
    const rows = await db.prisma.deployment.findMany({ where: { id: { in: ids } } });
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill("RUNNING"));
    expect(rows.every((r) => r.runningAt !== null && r.lastHeartbeatAt?.getTime() === r.runningAt.getTime())).toBe(true);

    const second = await monitorTick(deps(), settings);
    expect(second.running).toBe(0);
    const events = await db.prisma.deploymentEvent.groupBy({ by: ["deploymentId"], where: { deploymentId: { in: ids }, type: "running" }, _count: true });
    expect(events.map((e) => e._count)).toEqual(Array(5).fill(1));
    for (const id of ids) await client.terminatePod((await db.prisma.deployment.findUniqueOrThrow({ where: { id } })).podId ?? "");
  });
});
