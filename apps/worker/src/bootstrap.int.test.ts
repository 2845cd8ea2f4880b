import { Queue, QueueEvents } from "bullmq";
import { createRedis } from "@trainpod/core";
import { captureLogger, testConfig } from "../../../test/support/test-config";
import { testQueuePrefix, TEST_REDIS_URL, useTestQueues } from "../../../test/support/test-redis";
import { startWorkers } from "./bootstrap";
import type { ProcessorMap } from "./processor";

const prefix = testQueuePrefix();
const config = testConfig({
  databaseUrl: "postgresql://unused@127.0.0.1/unused",
  queuePrefix: prefix,
  env: { MONITOR_INTERVAL_MS: "3600000" },
});
const opened = useTestQueues(prefix);

const idle = async (): Promise<string> => "idle";

function processors(deploy: ProcessorMap["deploy"]): ProcessorMap {
  return {
    deploy,
    terminate: idle,
    billing: idle,
    monitor: idle,
    reconcile: idle,
    maintenance: idle,
    webhook: idle,
    webhookScan: idle,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("worker bootstrap", () => {
  it("refuses to start when a processor is missing", async () => {
    const broken = { ...processors(idle), terminate: undefined } as unknown as ProcessorMap;
    const { logger } = captureLogger();
    await expect(
      startWorkers({ config, logger, connection: opened.redis, queues: opened.queues, processors: broken }),
    ).rejects.toThrow(/terminate/);
  });

  it("on shutdown lets the in-flight job finish, then closes", async () => {
    const started = deferred();
    const release = deferred();
    let finished = false;
    const { logger } = captureLogger();
    const runtime = await startWorkers({
      config,
      logger,
      connection: opened.redis,
      queues: opened.queues,
      only: ["deploy"],
      processors: processors(async () => {
        started.resolve();
        await release.promise;
        finished = true;
        return "done";
      }),
    });
    const id = "6f1c3a52-3c0f-4a8e-9a51-0d1bb1f1a001";
    await opened.queues.deploy.add("deploy", { deploymentId: id }, { jobId: id });
    await started.promise;
    const closing = runtime.shutdown(10_000);
    setTimeout(() => release.resolve(), 200);
    const { forced } = await closing;
    expect(forced).toBe(false);
    expect(finished).toBe(true);
    const job = await opened.queues.deploy.getJob(id);
    expect(await job?.getState()).toBe("completed");
    expect(runtime.workers.every((w) => !w.isRunning())).toBe(true);
  });

  it("after the shutdown timeout, gives a stuck job up without completing or failing it", async () => {
    const started = deferred();
    const stuck = deferred(); // never released before the shutdown gives up
    const { logger } = captureLogger();
    const runtime = await startWorkers({
      config,
      logger,
      connection: opened.redis,
      queues: opened.queues,
      only: ["deploy"],
      processors: processors(async () => {
        started.resolve();
        await stuck.promise;
        return "late";
      }),
    });
    const id = "6f1c3a52-3c0f-4a8e-9a51-0d1bb1f1a002";
    await opened.queues.deploy.add("deploy", { deploymentId: id }, { jobId: id });
    await started.promise;
    const { forced } = await runtime.shutdown(300);
    expect(forced).toBe(true);
    const job = await opened.queues.deploy.getJob(id);
    // not completed, not failed: still owed to a worker (active until its lock lapses, then stalled → waiting)
    expect(["active", "waiting"]).toContain(await job?.getState());
    // a real worker process exits here; this one lets the job end so BullMQ's lock and stalled timers stop
    stuck.resolve();
    await Promise.all(runtime.workers.map((w) => w.close()));
  });

  it("rejects an invalid payload without retrying it", async () => {
    const { logger, lines } = captureLogger();
    const runtime = await startWorkers({
      config,
      logger,
      connection: opened.redis,
      queues: opened.queues,
      only: ["deploy"],
      processors: processors(idle),
    });
    const q = new Queue("deploy", { connection: opened.redis, prefix });
    const eventsConnection = createRedis(TEST_REDIS_URL);
    const events = new QueueEvents("deploy", { connection: eventsConnection, prefix });
    await events.waitUntilReady();
    const job = await q.add("deploy", { deploymentId: "not-a-uuid" }, { attempts: 5 });
    await expect(job.waitUntilFinished(events)).rejects.toThrow(/invalid deploy payload/);
    await events.close();
    eventsConnection.disconnect();
    const failed = await q.getJob(job.id ?? "");
    expect(failed?.attemptsMade).toBe(1);
    expect(lines.some((l) => l.includes("invalid job payload"))).toBe(true);
    await q.close();
    await runtime.shutdown(2000);
  });
});
