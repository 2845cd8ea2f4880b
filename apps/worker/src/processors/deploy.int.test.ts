import { UnrecoverableError, type Job } from "bullmq";
import { Client } from "pg";
import {
  createJobEnqueuer,
  createPrismaClient,
  podLauncher,
  RunPodRestClient,
  systemClock,
  type LifecycleDeps,
  type PrismaClient,
} from "@trainpod/core";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { captureLogger, testConfig } from "../../../../test/support/test-config";
import { useTestDatabase } from "../../../../test/support/test-db";
import { useTestQueues } from "../../../../test/support/test-redis";
import { runJob } from "../run-job";
import { createProcessors } from "./index";

// A transient infrastructure error (here a real one: Postgres gives up waiting for a row lock, as it does for a
// lock or statement timeout) is not a verdict on the deployment: the deploy job is retried with its backoff, and
// only its last attempt, or an error known to be final, closes the deployment (issue 32 item 3).
const db = useTestDatabase();
const q = useTestQueues();
let sim: SimProcess;
let impatient: PrismaClient;
const PREFIX = "tp-deploy-proc-";

beforeAll(async () => {
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0" });
  // this worker's Postgres sessions wait at most 300 ms for a lock, then the statement fails (SQLSTATE 55P03)
  impatient = createPrismaClient({ databaseUrl: `${db.url}?options=-c%20lock_timeout%3D300`, maxConnections: 3 });
});
afterAll(async () => {
  await impatient?.$disconnect();
  await sim?.stop();
});

function processors() {
  const config = testConfig({ databaseUrl: db.url, queuePrefix: q.prefix });
  const lifecycle: LifecycleDeps = {
    prisma: impatient,
    runpod: new RunPodRestClient({ baseUrl: sim.apiUrl, apiKey: "sim" }),
    clock: systemClock,
    jobs: createJobEnqueuer(q.queues),
    logger: captureLogger("deploy").logger,
    podNamePrefix: PREFIX,
    noCapacityMaxWaitMs: 60_000,
    gpuCatalog: () => Promise.resolve(null),
    ...podLauncher({ prisma: impatient, clock: systemClock, config }),
  };
  return createProcessors({
    lifecycle,
    billing: { mismatchThresholdMicros: 10_000n },
    monitor: { heartbeatTimeoutMs: 60_000, stallTimeoutMs: 0, requeueAfterMs: 60_000, terminateSweepAfterMs: 2_000 },
    maintenance: () => Promise.resolve(),
  });
}

/** A deployment whose dataset row another session holds FOR UPDATE: minting its download token waits on it. */
async function deploymentWithLockedDataset() {
  const { user } = await makeUser(db.prisma);
  const ds = await makeDataset(db.prisma, user.id);
  const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id });
  const holder = new Client({ connectionString: db.url });
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query(`SELECT 1 FROM "Dataset" WHERE "id" = $1 FOR UPDATE`, [ds.id]);
  const release = async () => {
    await holder.query("ROLLBACK");
    await holder.end();
  };
  return { d, release };
}

const deployJob = (deploymentId: string, attempts: number): Promise<Job> =>
  q.queues.deploy.add("deploy", { deploymentId }, { jobId: `${deploymentId}-${attempts}`, attempts });

async function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (value) => ({ value }),
    (err: unknown) => err,
  );
}

describe("the deploy processor and transient errors", () => {
  it("retries a deploy that met a database lock timeout: the deployment stays QUEUED, the next attempt creates its pod", async () => {
    const { d, release } = await deploymentWithLockedDataset();
    const { logger } = captureLogger("run-job");
    const job = await deployJob(d.id, 12);
    const first = await settle(runJob("deploy", job, processors(), logger));
    await release();

    // BullMQ retries what is thrown, unless it is UnrecoverableError
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBeInstanceOf(UnrecoverableError);
    expect(String((first as Error).message)).toMatch(/lock/i);
    const after = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(after).toMatchObject({ status: "QUEUED", failureReason: null, podId: null });
    const events = await db.prisma.deploymentEvent.findMany({ where: { deploymentId: d.id } });
    expect(events.map((e) => e.type)).not.toContain("failed");

    // the blip is over: the next attempt deploys
    await expect(runJob("deploy", job, processors(), logger)).resolves.toBe("provisioned");
    const provisioned = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(provisioned.status).toBe("PROVISIONING");
    expect(provisioned.podId).toEqual(expect.any(String));
  });

  it("fails the deployment INTERNAL_ERROR when the last attempt meets it", async () => {
    const { d, release } = await deploymentWithLockedDataset();
    const { logger } = captureLogger("run-job");
    const job = await deployJob(d.id, 1);
    const only = await settle(runJob("deploy", job, processors(), logger));
    await release();

    expect(only).toBeInstanceOf(Error);
    const after = await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect(after).toMatchObject({ status: "FAILED", failureReason: "INTERNAL_ERROR", podId: null });
    expect(after.failureMessage).toMatch(/lock/i);
  });
});
