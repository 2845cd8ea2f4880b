import { useTestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { useTestQueues } from "../../../../test/support/test-redis";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { captureLogger } from "../../../../test/support/test-config";
import { billedSeconds, costForSeconds } from "../deployment/cost";
import { createJobEnqueuer } from "../jobs/enqueuer";
import { costPerHrToMicros, RunPodRestClient } from "../runpod";
import { systemClock } from "../time/clock";
import { billPod } from "./bill-pod";
import type { LifecycleDeps } from "./lifecycle-deps";

// The billing job against the simulator's bill (GET /v2/billing/pods), whose records lag behind its meter by
// SIM_BILLING_LAG_MS: a read is final only once RunPod's records reach the pod's termination (issue 32 item 7).
const db = useTestDatabase();
const q = useTestQueues();
let sim: SimProcess;

beforeAll(async () => {
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0" });
});
afterAll(async () => {
  await sim?.stop();
});

const runpod = () => new RunPodRestClient({ baseUrl: sim.apiUrl, apiKey: "sim" });

function deps(): LifecycleDeps {
  return {
    prisma: db.prisma,
    runpod: runpod(),
    clock: systemClock,
    jobs: createJobEnqueuer(q.queues),
    logger: captureLogger("billing").logger,
    podNamePrefix: "tp-bill-test-",
    noCapacityMaxWaitMs: 60_000,
    gpuCatalog: () => Promise.resolve(null),
    buildLaunch: () => Promise.reject(new Error("not used")),
    revokeTokens: () => Promise.resolve(),
  };
}

async function setBillingLag(ms: number): Promise<void> {
  const res = await sim.admin("/admin/config", {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ billingLagMs: ms }),
  });
  if (res.status !== 200) throw new Error(`sim config: ${res.status} ${await res.text()}`);
}

/** A closed deployment whose sim pod ran about 1.5 s, recorded as the terminate job records it. */
async function closedWithBilledPod() {
  const { user } = await makeUser(db.prisma);
  const ds = await makeDataset(db.prisma, user.id);
  const pod = await runpod().createPod({
    name: `tp-bill-test-${ds.id}`,
    image: "img",
    gpu: { id: "NVIDIA A40", count: 1 },
    args: "sleep 30",
  });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const requested = new Date();
  await runpod().terminatePod(pod.id);
  const terminated = new Date();
  const createdAt = new Date(pod.createdAt);
  const perHr = costPerHrToMicros(pod.cost);
  const d = await makeDeployment(
    db.prisma,
    { userId: user.id, datasetId: ds.id },
    {
      status: "SUCCEEDED",
      podId: pod.id,
      podCreatedAt: createdAt,
      terminateRequestedAt: requested,
      podTerminatedAt: terminated,
      costPerHrMicros: perHr,
      costMicros: costForSeconds(perHr, billedSeconds(createdAt, terminated)),
    },
  );
  return { d, pod };
}

async function simMeterMicros(podId: string): Promise<bigint> {
  const res = await sim.admin(`/admin/pods/${podId}`);
  const view = (await res.json()) as { accruedCostMicros: number };
  return BigInt(view.accruedCostMicros);
}

describe("billPod: RunPod's records lag", () => {
  const settings = (attempt: number) => ({ mismatchThresholdMicros: 10_000n, attempt, maxAttempts: 10 });

  it("does not take a bill whose records stop short of the pod's termination as final, however small the gap", async () => {
    await setBillingLag(60_000);
    const { d } = await closedWithBilledPod();
    // a 1.5 s pod: our cost is under ten seconds of price, so the amount alone cannot tell a lagging bill
    await expect(billPod(deps(), d.id, settings(1))).rejects.toMatchObject({
      code: "RUNPOD_UNAVAILABLE",
      retryable: true,
    });
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row.runpodBilledAt).toBeNull();
    // the job's last attempt records what RunPod has, and says it differs
    await expect(billPod(deps(), d.id, settings(10))).resolves.toBe("recorded");
    const last = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(last.runpodBilledMicros).toBe(0n);
  });

  it("records the bill once its records reach the termination: RunPod's figure, equal to the simulator's meter", async () => {
    await setBillingLag(0);
    const { d, pod } = await closedWithBilledPod();
    await expect(billPod(deps(), d.id, settings(1))).resolves.toBe("recorded");
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row.runpodBilledMicros).toBe(await simMeterMicros(pod.id));
    expect(row.runpodBilledMicros).toBeGreaterThan(0n);
  });
});
