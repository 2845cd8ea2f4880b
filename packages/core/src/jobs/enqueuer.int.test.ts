import { randomUUID } from "node:crypto";
import { UnrecoverableError, Worker } from "bullmq";
import { openTestQueues, testQueuePrefix, type TestQueues } from "../../../../test/support/test-redis";
import { jobIds } from "./catalog";
import { createJobEnqueuer } from "./enqueuer";

const prefix = testQueuePrefix();
let q: TestQueues;

beforeAll(() => {
  q = openTestQueues(prefix);
});
afterAll(async () => {
  await q.close();
});

/** Runs the terminate queue's jobs once with `outcome` and waits until the job with `jobId` ended. */
async function runOnce(jobId: string, outcome: "fail" | "complete"): Promise<void> {
  const connection = q.redis.duplicate();
  const worker = new Worker(
    "terminate",
    async () => {
      if (outcome === "fail") throw new UnrecoverableError("gave up");
      return "done";
    },
    { connection, prefix, autorun: true },
  );
  try {
    for (let i = 0; i < 100; i += 1) {
      const state = await q.queues.terminate.getJobState(jobId);
      if (state === (outcome === "fail" ? "failed" : "completed")) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${jobId} did not end`);
  } finally {
    await worker.close();
    connection.disconnect();
  }
}

describe("enqueue again (the monitor's and reconcile's sweeps)", () => {
  it("a plain add of a job id that already failed is a no-op; with revive the job runs again from attempt 1", async () => {
    const jobs = createJobEnqueuer(q.queues);
    const id = randomUUID();
    await jobs.terminate(id, "first");
    await runOnce(`terminate-${id}`, "fail");
    await jobs.terminate(id, "again");
    expect(await q.queues.terminate.getJobState(`terminate-${id}`)).toBe("failed");
    await jobs.terminate(id, "reconcile", { revive: true });
    expect(await q.queues.terminate.getJobState(`terminate-${id}`)).toBe("waiting");
    expect((await q.queues.terminate.getJob(`terminate-${id}`))?.attemptsMade).toBe(0);
  });

  it("a job that completed is added anew with revive", async () => {
    const jobs = createJobEnqueuer(q.queues);
    const id = randomUUID();
    await jobs.terminate(id, "first");
    await runOnce(`terminate-${id}`, "complete");
    await jobs.terminate(id, "reconcile", { revive: true });
    expect(await q.queues.terminate.getJobState(`terminate-${id}`)).toBe("waiting");
  });
});

describe("deploy adds made while earlier ones are out (the submission's hot path)", () => {
  it("go to Redis together, each a job of its own, a repeated id still one job", async () => {
    const jobs = createJobEnqueuer(q.queues);
    // count the real add's and addBulk's calls; they still run
    const [one, bulk] = [jest.spyOn(q.queues.deploy, "add"), jest.spyOn(q.queues.deploy, "addBulk")];
    try {
      const ids = Array.from({ length: 30 }, () => randomUUID());
      await Promise.all([...ids, ids[0] as string].map((id) => jobs.deploy(id)));
      // the first add goes at once, alone; the other 30 go together once it is answered
      expect(one).toHaveBeenCalledTimes(1);
      expect(bulk.mock.calls.map(([added]) => added.length)).toEqual([30]);
      const states = await Promise.all(ids.map((id) => q.queues.deploy.getJobState(jobIds.deploy(id))));
      expect(new Set(states)).toEqual(new Set(["waiting"]));
      expect((await q.queues.deploy.getJob(jobIds.deploy(ids[0] as string)))?.data).toEqual({ deploymentId: ids[0] });
      expect(await q.queues.deploy.getWaitingCount()).toBe(30);
    } finally {
      one.mockRestore();
      bulk.mockRestore();
    }
  });
});
