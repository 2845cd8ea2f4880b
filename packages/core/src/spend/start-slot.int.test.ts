import { useTestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { MemoryRunPod } from "../../../../test/support/memory-runpod";
import { captureLogger } from "../../../../test/support/test-config";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { deployDeployment } from "../lifecycle/deploy-pod";
import type { LifecycleDeps } from "../lifecycle/lifecycle-deps";
import { monitorTick } from "../lifecycle/monitor-tick";
import { terminateDeployment } from "../lifecycle/terminate-pod";
import { systemClock } from "../time/clock";
import type { SpendSettings } from "./settings";

// One user's deployments against their slots, through the real use cases (deploy job, terminate job, monitor tick)
// on a real database and RunPod in memory. The deploy jobs are run by the test, in the order a busy worker might
// run them; a wake-up is a deploy job the use cases enqueued (`woken`), so what is measured is which deployments
// are woken and how many per release or per tick, not how long anything took.
const db = useTestDatabase();

const PREFIX = "tp-slot-test-";
const monitorSettings = {
  heartbeatTimeoutMs: 600_000,
  stallTimeoutMs: 0,
  requeueAfterMs: 600_000,
  terminateSweepAfterMs: 600_000,
};

function spendSettings(maxLiveDeployments: number, maxGpus: number): SpendSettings {
  return {
    monthlyBudgetMicros: 0n,
    onExceed: "block",
    maxLiveDeployments,
    maxGpus,
    allowedImages: ["runpod/*"],
    caps: { maxGpuCount: 8, maxRuntimeMinutes: 600, maxCostMicros: 100_000_000n },
  };
}

interface Harness {
  deps: LifecycleDeps;
  /** the deployments whose deploy job was enqueued since the last take(), in order, once each (the job id is the deployment's) */
  take(): string[];
}

function harness(spend: SpendSettings): Harness {
  let woken: string[] = [];
  const jobs: JobEnqueuer = {
    deploy: (id) => Promise.resolve(void woken.push(id)),
    terminate: () => Promise.resolve(),
    billing: () => Promise.resolve(),
  };
  const deps: LifecycleDeps = {
    prisma: db.prisma,
    runpod: new MemoryRunPod(),
    clock: systemClock,
    jobs,
    logger: captureLogger("slots").logger,
    podNamePrefix: PREFIX,
    noCapacityMaxWaitMs: 60_000,
    gpuCatalog: () => Promise.resolve(null),
    buildLaunch: () => Promise.resolve({ env: {}, args: "" }),
    revokeTokens: () => Promise.resolve(),
    spend,
  };
  return {
    deps,
    take: () => {
      const out = [...new Set(woken)];
      woken = [];
      return out;
    },
  };
}

/** `gpus.length` deployments of one new user, submitted in this order (1 ms apart), each with its GPU count. */
async function submitted(gpus: number[]): Promise<string[]> {
  const { user } = await makeUser(db.prisma);
  const ds = await makeDataset(db.prisma, user.id);
  const t0 = Date.now() - 60_000;
  const ids: string[] = [];
  for (const [i, gpuCount] of gpus.entries()) {
    ids.push(
      (
        await makeDeployment(
          db.prisma,
          { userId: user.id, datasetId: ds.id },
          { gpuCount, createdAt: new Date(t0 + i) },
        )
      ).id,
    );
  }
  return ids;
}

/** Runs the deploy jobs of `ids` one after another, as a worker would; their outcomes in the same order. */
async function runDeploys(h: Harness, ids: string[]): Promise<string[]> {
  const outcomes: string[] = [];
  for (const id of ids) outcomes.push(await deployDeployment(h.deps, id, 1));
  return outcomes;
}

/** Which of `ids` (by position, 1-based: submission order) have claimed a slot. */
async function startedPositions(ids: string[]): Promise<number[]> {
  const rows = await db.prisma.deployment.findMany({
    where: { id: { in: ids }, podRequestedAt: { not: null } },
    select: { id: true },
  });
  const started = new Set(rows.map((r) => r.id));
  return ids.flatMap((id, i) => (started.has(id) ? [i + 1] : []));
}

/** The run of `id` ends (its outcome reported): SUCCEEDED, its pod still to be terminated. */
async function finish(id: string): Promise<void> {
  await db.prisma.deployment.update({ where: { id }, data: { status: "SUCCEEDED", finishedAt: new Date() } });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("start slots of one user", () => {
  it("with the limits off no deployment waits, whatever order its deploy job runs in", async () => {
    const h = harness(spendSettings(0, 0));
    const ids = await submitted(Array<number>(20).fill(1));
    const outcomes = await runDeploys(h, [...ids].reverse());
    expect(outcomes).toEqual(Array(20).fill("provisioned"));
    expect(await db.prisma.deploymentEvent.count({ where: { deploymentId: { in: ids }, type: "waiting" } })).toBe(0);
  });

  it("20 runs and a limit of 10: the first 10 start at once; a release wakes the next one; a tick wakes as many as fit", async () => {
    const h = harness(spendSettings(10, 0));
    const ids = await submitted(Array<number>(20).fill(1));
    const at = (...positions: number[]) => positions.map((p) => ids[p - 1]!);
    // the jobs run last submitted first: each of the first 10 fits with every earlier one, the other 10 wait
    const outcomes = await runDeploys(h, [...ids].reverse());
    expect(outcomes).toEqual([...Array(10).fill("waiting"), ...Array(10).fill("provisioned")]);
    expect(await startedPositions(ids)).toEqual(range(1, 10));

    // a pod released: its terminate job wakes the first waiting deployment, which starts
    await finish(ids[0]!);
    expect(await terminateDeployment(h.deps, ids[0]!, "succeeded")).toBe("terminated");
    expect(h.take()).toEqual(at(11));
    expect(await runDeploys(h, at(11))).toEqual(["provisioned"]);

    // three pods released by one another's terminate jobs: each wakes one more, in submission order
    for (const p of [2, 3, 4]) {
      await finish(ids[p - 1]!);
      await terminateDeployment(h.deps, ids[p - 1]!, "succeeded");
    }
    expect(h.take()).toEqual(at(12, 13, 14));
    expect(await runDeploys(h, at(14, 12, 13))).toEqual(["provisioned", "provisioned", "provisioned"]);

    // three pods gone without their terminate job's wake (a worker killed after the DELETE was recorded):
    // the next monitor tick wakes all three that now fit, not one per tick
    for (const p of [5, 6, 7]) {
      await finish(ids[p - 1]!);
      await db.prisma.deployment.update({ where: { id: ids[p - 1]! }, data: { podTerminatedAt: new Date() } });
    }
    await monitorTick(h.deps, monitorSettings);
    expect(h.take()).toEqual(at(15, 16, 17));
    expect(await runDeploys(h, at(15, 16, 17))).toEqual(["provisioned", "provisioned", "provisioned"]);
    expect(await startedPositions(ids)).toEqual(range(1, 17));

    // nothing freed: a tick wakes only the oldest waiting one (it asks again and waits again)
    await monitorTick(h.deps, monitorSettings);
    expect(h.take()).toEqual(at(18));
    expect(await runDeploys(h, at(18))).toEqual(["waiting"]);
    expect(await startedPositions(ids)).toEqual(range(1, 17));
  });

  it("within a user, first submitted, first started: a later deployment that fits alone waits behind an earlier one that does not", async () => {
    const h = harness(spendSettings(0, 4));
    const ids = await submitted([2, 1, 2, 1]);
    // 2 + 1 GPUs in use; the third asks 2 (3 + 2 > 4) and waits; the fourth's 1 would fit, but not behind the third
    expect(await runDeploys(h, [ids[3]!, ids[2]!, ids[1]!, ids[0]!])).toEqual([
      "waiting",
      "waiting",
      "provisioned",
      "provisioned",
    ]);
    expect(await startedPositions(ids)).toEqual([1, 2]);
    // the 2-GPU pod released: 1 + 2 + 1 = 4 GPUs: both waiting ones fit and are woken at once
    await finish(ids[0]!);
    await terminateDeployment(h.deps, ids[0]!, "succeeded");
    expect(h.take()).toEqual([ids[2]!, ids[3]!]);
    expect(await runDeploys(h, [ids[3]!, ids[2]!])).toEqual(["provisioned", "provisioned"]);
    expect(await startedPositions(ids)).toEqual([1, 2, 3, 4]);
  });
});
