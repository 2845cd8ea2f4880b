import { Queue, Worker } from "bullmq";
import { createMetrics, createRedis, observeWorkerOutcomes } from "@trainpod/core";
import { startMetricsServer, type MetricsServer } from "./metrics-server";
import { deletePrefix, testQueuePrefix, TEST_REDIS_URL } from "../../../test/support/test-redis";
import { until } from "../../../test/support/until";

const TOKEN = "worker-metrics-token-123";
const prefix = testQueuePrefix();
const metrics = createMetrics("worker");
let server: MetricsServer;

beforeAll(async () => {
  server = await startMetricsServer({ metrics, host: "127.0.0.1", port: 0, token: TOKEN });
});
afterAll(async () => {
  await server?.close();
  await deletePrefix(prefix);
});

describe("the worker's /metrics server", () => {
  it("needs METRICS_TOKEN when set, and answers only GET /metrics", async () => {
    expect((await fetch(server.url)).status).toBe(401);
    expect((await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect(
      (await fetch(server.url.replace("/metrics", "/other"), { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);
  });

  it("counts job outcomes per queue from real BullMQ workers", async () => {
    const connection = createRedis(TEST_REDIS_URL, { failFast: false });
    const queue = new Queue("deploy", { connection, prefix });
    const blocking = connection.duplicate();
    const worker = new Worker(
      "deploy",
      async (job) => {
        if (job.data.fail) throw new Error("boom");
        return "ok";
      },
      { connection: blocking, prefix },
    );
    observeWorkerOutcomes(metrics, [worker]);
    await queue.add("deploy", { fail: false });
    await queue.add("deploy", { fail: true }, { attempts: 1 });
    const read = async () => (await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    await until(
      "a failed job counted",
      async () =>
        (await read()).includes('trainpod_job_outcomes_total{queue="deploy",outcome="failed",service="worker"} 1'),
      10_000,
    );
    const text = await read();
    expect(text).toContain('trainpod_job_outcomes_total{queue="deploy",outcome="completed",service="worker"} 1');
    expect(text).toContain("trainpod_process_cpu_seconds_total");
    await worker.close();
    await queue.close();
    connection.disconnect();
    blocking.disconnect();
  });
});
