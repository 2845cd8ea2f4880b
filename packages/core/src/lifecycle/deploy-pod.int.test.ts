import { useTestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { useTestQueues } from "../../../../test/support/test-redis";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { captureLogger, testConfig } from "../../../../test/support/test-config";
import { sha256Hex } from "../auth/secret";
import { createJobEnqueuer } from "../jobs/enqueuer";
import { podLauncher } from "../pod-launch/pod-launcher";
import { verifyRunToken } from "../pod-launch/run-token";
import { NoCapacityError, RunPodRestClient, RunPodUnavailableError } from "../runpod";
import { ManualClock, systemClock, type Clock } from "../time/clock";
import { deployDeployment } from "./deploy-pod";
import type { LifecycleDeps } from "./lifecycle-deps";
import { terminateDeployment } from "./terminate-pod";

// The deploy use case against the simulator over HTTP and a real database: when the capacity wait starts
// (issue 32 item 4), and which tokens a re-deploy leaves valid (item 5).
const db = useTestDatabase();
const q = useTestQueues();
let sim: SimProcess;
const PREFIX = "tp-deploy-test-";
const MAX_WAIT_MS = 30 * 60_000;

beforeAll(async () => {
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0" });
});
afterAll(async () => {
  await sim?.stop();
});
afterEach(async () => {
  await simConfig({ capacity: { "*": null }, faults: { createThenFail: 0, omitFromList: 0 } });
});

const runpod = () => new RunPodRestClient({ baseUrl: sim.apiUrl, apiKey: "sim" });

function deps(clock: Clock = systemClock): LifecycleDeps {
  const config = testConfig({ databaseUrl: db.url, queuePrefix: q.prefix });
  return {
    prisma: db.prisma,
    runpod: runpod(),
    clock,
    jobs: createJobEnqueuer(q.queues),
    logger: captureLogger("deploy").logger,
    podNamePrefix: PREFIX,
    noCapacityMaxWaitMs: MAX_WAIT_MS,
    gpuCatalog: () => Promise.resolve(null),
    ...podLauncher({ prisma: db.prisma, clock, config }),
  };
}

async function simConfig(patch: Record<string, unknown>): Promise<void> {
  const res = await sim.admin("/admin/config", {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  if (res.status !== 200) throw new Error(`sim config: ${res.status} ${await res.text()}`);
}

async function queued(over: Parameters<typeof makeDeployment>[2] = {}) {
  const { user } = await makeUser(db.prisma);
  const ds = await makeDataset(db.prisma, user.id);
  return makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id }, over);
}

const settle = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (value) => ({ value }),
    (err: unknown) => err,
  );

/** The run and dataset tokens a pod carries, read from the env RunPod keeps for it. */
async function tokensOf(podId: string): Promise<{ run: string; datasetHash: string }> {
  const pod = await runpod().getPod(podId);
  const run = pod?.env?.TRAINPOD_RUN_TOKEN;
  const url = pod?.env?.TRAINPOD_DATASET_URL;
  if (run === undefined || url === undefined) throw new Error(`pod ${podId} carries no trainpod tokens`);
  const dataset = new URL(url).searchParams.get("token");
  if (dataset === null) throw new Error(`pod ${podId}'s dataset URL has no token`);
  return { run, datasetHash: sha256Hex(dataset) };
}

async function simPodsNamed(name: string): Promise<Array<{ id: string; status: string }>> {
  const res = await sim.admin("/admin/pods");
  const pods = (await res.json()) as Array<{ id: string; name: string; status: string }>;
  return pods.filter((p) => p.name === name);
}

describe("deploy: the no-capacity clock", () => {
  it("starts at the first create attempt, not at submission: a run that waited 2 h for a slot still gets the whole wait", async () => {
    await simConfig({ capacity: 0 });
    const clock = new ManualClock(Date.now());
    const submitted = new Date(clock.now().getTime() - 2 * 3_600_000);
    const d = await queued({ createdAt: submitted, slotWaitSince: submitted });

    const first = await settle(deployDeployment(deps(clock), d.id, 1));
    expect(first).toBeInstanceOf(NoCapacityError);
    expect(first).toMatchObject({ retryable: true });
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row).toMatchObject({ status: "QUEUED", capacityWaits: 1, podRequestedAt: clock.now() });

    clock.advance(MAX_WAIT_MS - 60_000);
    await expect(settle(deployDeployment(deps(clock), d.id, 2))).resolves.toMatchObject({ retryable: true });
    expect(await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).toMatchObject({ status: "QUEUED" });

    clock.advance(2 * 60_000);
    const last = await settle(deployDeployment(deps(clock), d.id, 3));
    expect(last).toMatchObject({ code: "RUNPOD_NO_CAPACITY", retryable: false });
    const failed = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(failed).toMatchObject({ status: "FAILED", failureReason: "NO_CAPACITY", capacityWaits: 3 });
    expect(failed.failureMessage).toMatch(/^no capacity after 1860 s/);
  });
});

describe("deploy: tokens of a pod that may be live", () => {
  it("a re-deploy leaves the tokens of an earlier create whose answer was lost valid: that pod, adopted later, can report", async () => {
    const d = await queued();
    const name = `${PREFIX}${d.id}`;
    // attempt 1: RunPod makes the pod and answers 500, and no listing shows it: the job will retry
    await simConfig({ capacity: 1, faults: { createThenFail: 1, omitFromList: 1 } });
    await expect(settle(deployDeployment(deps(), d.id, 1))).resolves.toBeInstanceOf(RunPodUnavailableError);
    const [podA] = await simPodsNamed(name);
    expect(podA).toBeDefined();
    const a = await tokensOf(podA!.id);

    // attempt 2: the listing still misses pod A, so a new launch is built; pod A holds the only GPU: 400
    await simConfig({ faults: { createThenFail: 0 } });
    await expect(settle(deployDeployment(deps(), d.id, 2))).resolves.toBeInstanceOf(NoCapacityError);
    await expect(verifyRunToken(db.prisma, systemClock, d.id, a.run)).resolves.toMatchObject({ deploymentId: d.id });

    // attempt 3: the listing shows pod A: adopted, with the tokens it was started with still valid
    await simConfig({ faults: { omitFromList: 0 } });
    await expect(deployDeployment(deps(), d.id, 3)).resolves.toBe("adopted");
    expect(await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).toMatchObject({
      status: "PROVISIONING",
      podId: podA!.id,
    });
    await expect(verifyRunToken(db.prisma, systemClock, d.id, a.run)).resolves.toMatchObject({ deploymentId: d.id });
    const datasetToken = await db.prisma.datasetDownloadToken.findUniqueOrThrow({
      where: { tokenHash: a.datasetHash },
    });
    expect(datasetToken.revokedAt).toBeNull();
    // the refused launch of attempt 2 reached no pod: its tokens are revoked now that the pod is known
    const runTokens = await db.prisma.runToken.findMany({ where: { deploymentId: d.id } });
    expect(runTokens).toHaveLength(2);
    expect(runTokens.filter((t) => t.revokedAt === null).map((t) => t.tokenHash)).toEqual([sha256Hex(a.run)]);

    // pod A known gone (terminated): now its tokens die
    await terminateDeployment(deps(), d.id, "test");
    await expect(verifyRunToken(db.prisma, systemClock, d.id, a.run)).rejects.toMatchObject({ code: "TOKEN_REVOKED" });
  });

  it("once a later create's pod is recorded, the tokens of an earlier launch (a duplicate pod, to be reconciled) are revoked", async () => {
    const d = await queued();
    const name = `${PREFIX}${d.id}`;
    await simConfig({ faults: { createThenFail: 1, omitFromList: 1 } });
    await expect(settle(deployDeployment(deps(), d.id, 1))).resolves.toBeInstanceOf(RunPodUnavailableError);
    const [podA] = await simPodsNamed(name);
    const a = await tokensOf(podA!.id);

    await simConfig({ faults: { createThenFail: 0 } });
    await expect(deployDeployment(deps(), d.id, 2)).resolves.toBe("provisioned");
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(row.podId).not.toBe(podA!.id);
    const b = await tokensOf(row.podId!);
    await expect(verifyRunToken(db.prisma, systemClock, d.id, b.run)).resolves.toMatchObject({ deploymentId: d.id });
    await expect(verifyRunToken(db.prisma, systemClock, d.id, a.run)).rejects.toMatchObject({ code: "TOKEN_REVOKED" });
    await runpod().terminatePod(podA!.id);
    await terminateDeployment(deps(), d.id, "test");
  });
});

describe("terminate: where the pod's bill ends", () => {
  it("at RunPod's answer to the DELETE, not after the worker's own writes that follow it (a slow database)", async () => {
    const clock = new ManualClock(Date.now());
    const d = await queued();
    await deployDeployment(deps(clock), d.id, 1);
    clock.advance(10_000);
    const base = deps(clock);
    let answeredAt: Date | undefined;
    const slow: LifecycleDeps = {
      ...base,
      runpod: Object.assign(Object.create(base.runpod) as LifecycleDeps["runpod"], {
        terminatePod: async (podId: string) => {
          const result = await base.runpod.terminatePod(podId);
          answeredAt = clock.now();
          return result;
        },
      }),
      // the tokens' revocation after the DELETE meets a busy database: 1.5 s pass before the record is written
      revokeTokens: async (...args: Parameters<LifecycleDeps["revokeTokens"]>) => {
        clock.advance(1_500);
        return base.revokeTokens(...args);
      },
    };
    expect(await terminateDeployment(slow, d.id, "completed")).toBe("terminated");
    const row = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(answeredAt).toBeDefined();
    expect(row.podTerminatedAt).toEqual(answeredAt);
    expect(row.runtimeSeconds).toBe(10);
  });

  it("found gone (a concurrent DELETE landed during this call): the end is bracketed up to this call's answer", async () => {
    const clock = new ManualClock(Date.now());
    const d = await queued();
    await deployDeployment(deps(clock), d.id, 1);
    const base = deps(clock);
    const podId = (await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).podId!;
    clock.advance(10_000);
    const first = clock.now();
    // the first call's DELETE never reaches RunPod
    const lost = Object.assign(Object.create(base.runpod) as LifecycleDeps["runpod"], {
      terminatePod: async () => {
        throw new RunPodUnavailableError("DELETE /pods: socket hang up", "network");
      },
    });
    await expect(terminateDeployment({ ...base, runpod: lost }, d.id, "completed")).rejects.toMatchObject({
      code: "RUNPOD_UNAVAILABLE",
    });
    clock.advance(5_000);
    // the second call starts; another call's DELETE lands while it is out, 3 s later, and its own meets a 404
    const concurrent = Object.assign(Object.create(base.runpod) as LifecycleDeps["runpod"], {
      terminatePod: async (id: string) => {
        clock.advance(3_000);
        await base.runpod.terminatePod(id);
        return base.runpod.terminatePod(id);
      },
    });
    expect(await terminateDeployment({ ...base, runpod: concurrent }, d.id, "completed")).toBe("terminated");
    const event = await db.prisma.deploymentEvent.findFirstOrThrow({
      where: { deploymentId: d.id, type: "pod_terminated" },
    });
    expect(event.data).toMatchObject({
      podId,
      alreadyGone: true,
      endEstimated: true,
      endBetween: [first.toISOString(), clock.now().toISOString()],
    });
  });
});
