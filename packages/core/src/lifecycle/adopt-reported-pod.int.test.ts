import { useTestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { openTestQueues, type TestQueues } from "../../../../test/support/test-redis";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { createJobEnqueuer } from "../jobs/enqueuer";
import { RunPodRestClient } from "../runpod";
import { systemClock } from "../time/clock";
import { recordRunEvent } from "./record-run-event";

// A worker killed between creating a pod and recording it leaves the deployment QUEUED while the pod
// boots and reports; its deploy job is held by the dead worker's lock for up to a minute. The pod's own
// `started` report names its pod id: the pod is adopted from it (checked with RunPod: the pod exists and
// carries this deployment's name), so the run's reports are not lost.
const db = useTestDatabase();
let sim: SimProcess;
let q: TestQueues;
const PREFIX = "tp-adopt-test-";

beforeAll(async () => {
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0" });
  q = openTestQueues();
});
afterAll(async () => {
  await q?.close();
  await sim?.stop();
});

const runpod = () => new RunPodRestClient({ baseUrl: sim.apiUrl, apiKey: "sim" });
const deps = () => ({
  prisma: db.prisma,
  clock: systemClock,
  jobs: createJobEnqueuer(q.queues),
  runpod: runpod(),
  podNamePrefix: PREFIX,
});

async function queuedWithPod(name: (id: string) => string) {
  const { user } = await makeUser(db.prisma);
  const ds = await makeDataset(db.prisma, user.id);
  const d = await makeDeployment(
    db.prisma,
    { userId: user.id, datasetId: ds.id },
    { status: "QUEUED", podRequestedAt: new Date() },
  );
  const pod = await runpod().createPod({
    name: name(d.id),
    image: "img",
    gpu: { id: "NVIDIA A40", count: 1 },
    args: "sleep 30",
  });
  return { d, pod };
}

describe("a pod that reports before its deployment recorded it", () => {
  it("is adopted from its `started` report: the deployment runs, billed from RunPod's createdAt at RunPod's price", async () => {
    const { d, pod } = await queuedWithPod((id) => `${PREFIX}${id}`);
    await recordRunEvent(deps(), d.id, { type: "started", system: { podId: pod.id } });
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row).toMatchObject({ status: "RUNNING", podId: pod.id, gpuTypeId: "NVIDIA A40", costPerHrMicros: 400_000n });
    expect(row.podCreatedAt?.toISOString()).toBe(pod.createdAt);
    const types = (
      await db.prisma.deploymentEvent.findMany({ where: { deploymentId: d.id }, orderBy: { id: "asc" } })
    ).map((e) => e.type);
    expect(types).toEqual(["pod_adopted", "running"]);
    await runpod().terminatePod(pod.id);
  });

  it("is not adopted when the named pod is someone else's (another name) or does not exist", async () => {
    const { d, pod } = await queuedWithPod((id) => `someone-else-${id}`);
    await recordRunEvent(deps(), d.id, { type: "started", system: { podId: pod.id } });
    await recordRunEvent(deps(), d.id, { type: "started", system: { podId: "no-such-pod" } });
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row).toMatchObject({ status: "QUEUED", podId: null });
    await runpod().terminatePod(pod.id);
  });
});
