import { ManualClock } from "../time/clock";
import { createJobEnqueuer } from "../jobs/enqueuer";
import { useTestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { openTestQueues, type TestQueues } from "../../../../test/support/test-redis";
import { MAX_LOG_EVENTS, recordRunEvent } from "./record-run-event";

const db = useTestDatabase();
let deploymentId: string;
let q: TestQueues;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

beforeAll(async () => {
  q = openTestQueues();
  const { user } = await makeUser(db.prisma);
  const ds = await makeDataset(db.prisma, user.id);
  const d = await makeDeployment(
    db.prisma,
    { userId: user.id, datasetId: ds.id },
    { status: "PROVISIONING", podId: "pod1" },
  );
  deploymentId = d.id;
});
afterAll(async () => {
  await q.close();
});

const deps = () => ({ prisma: db.prisma, clock, jobs: createJobEnqueuer(q.queues) });
const terminateJobs = async () =>
  (await q.queues.terminate.getJobs(["waiting", "delayed", "active"])).map((j) => j.data.deploymentId as string);

describe("run events", () => {
  it("started → RUNNING, progress updates the deployment, failed → FAILED with exit code and a terminate", async () => {
    await recordRunEvent(deps(), deploymentId, { type: "started", system: { gpu: "No GPU" } });
    await recordRunEvent(deps(), deploymentId, { type: "progress", step: 4, totalSteps: 10, loss: 1.25 });
    await recordRunEvent(deps(), deploymentId, {
      type: "failed",
      exitCode: 3,
      phase: "training",
      lines: ["Traceback", "boom"],
    });
    const d = await db.prisma.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(d).toMatchObject({
      status: "FAILED",
      failureReason: "TRAINING_FAILED",
      exitCode: 3,
      progressStep: 4,
      progressTotalSteps: 10,
    });
    expect(d.progressLoss?.toString()).toBe("1.25");
    expect(d.failureMessage).toContain("boom");
    expect(await terminateJobs()).toEqual([deploymentId]);
    // a second outcome changes nothing: terminal states are final
    await recordRunEvent(deps(), deploymentId, { type: "completed" });
    expect((await db.prisma.deployment.findUniqueOrThrow({ where: { id: deploymentId } })).status).toBe("FAILED");
    expect(await terminateJobs()).toHaveLength(1);
  });

  it("rejects events that do not fit the schema", async () => {
    // zod's errors (the API answers them 400 VALIDATION_FAILED), naming the field at fault; nothing recorded
    const before = await db.prisma.deploymentEvent.count({ where: { deploymentId } });
    await expect(recordRunEvent(deps(), deploymentId, { type: "progress", step: -1 })).rejects.toMatchObject({
      name: "ZodError",
      issues: [expect.objectContaining({ path: ["step"] })],
    });
    await expect(recordRunEvent(deps(), deploymentId, { type: "nope" })).rejects.toMatchObject({
      name: "ZodError",
      issues: [expect.objectContaining({ path: ["type"] })],
    });
    expect(await db.prisma.deploymentEvent.count({ where: { deploymentId } })).toBe(before);
  });

  it("keeps a bounded number of log batches per deployment", async () => {
    for (let i = 0; i < MAX_LOG_EVENTS + 5; i++)
      await recordRunEvent(deps(), deploymentId, { type: "log", lines: [`line ${i}`] });
    const logs = await db.prisma.deploymentEvent.count({ where: { deploymentId, type: "log" } });
    const truncated = await db.prisma.deploymentEvent.count({ where: { deploymentId, type: "log_truncated" } });
    expect(logs).toBe(MAX_LOG_EVENTS);
    expect(truncated).toBe(1);
  }, 60_000);
});
