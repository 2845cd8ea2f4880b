import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startApi } from "@trainpod/api";
import { createUserWithKey } from "@trainpod/core";
import { freePort } from "../support/free-port";
import { startSimProcess, type SimProcess } from "../support/sim-process";
import { createTestDatabase, type TestDatabase } from "../support/test-db";
import { captureLogger, testConfig } from "../support/test-config";
import { deletePrefix, testQueuePrefix, TEST_REDIS_URL } from "../support/test-redis";
import { until } from "../support/until";
import { startWorkerProcesses, type WorkerProcesses } from "../support/worker-processes";
import { CHAT_DATASET } from "./support/client";

// Three worker processes share one RunPod account whose quota is 60 calls a minute (the simulator
// enforces it and says so in RateLimit/RateLimit-Policy). 50 deployments: every one must finish, no
// 429 may reach a job as a failure, and the shared budget's waiting must show in the workers' metric.
const DEPLOYMENTS = 50;
let sim: SimProcess;
let db: TestDatabase;
let workers: WorkerProcesses;
let stopApi: () => Promise<void>;
let apiUrl: string;
const prefix = testQueuePrefix();
const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-quota-"));

beforeAll(async () => {
  [sim, db] = await Promise.all([
    startSimProcess({ SIM_BOOT_DELAY_MS: "100", SIM_QUOTA: JSON.stringify({ minute: 60 }) }),
    createTestDatabase(),
  ]);
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    RUNPOD_API_URL: sim.apiUrl,
    API_HOST: "127.0.0.1",
    API_PORT: String(port),
    PUBLIC_URL: apiUrl,
    DATASET_DIR: path.join(dir, "datasets"),
    ARTIFACT_DIR: path.join(dir, "artifacts"),
    LOG_FORMAT: "json",
    LOG_LEVEL: "info",
    RATE_LIMIT_PER_MINUTE: "0",
    RATE_LIMIT_RUN_PER_MINUTE: "0",
    // the worker processes keep the production spend defaults (10 pods a user): 60 deploy jobs of one user at once
    // once starved the database pool waiting for the user's lock inside transactions (now only tried: withUserLock)
  };
  const config = testConfig({ databaseUrl: db.url, queuePrefix: prefix, env });
  const api = await startApi(config, { logger: captureLogger("api").logger, prisma: db.prisma });
  stopApi = () => api.close();
  workers = await startWorkerProcesses(3, { ...env, NODE_ENV: "test" });
}, 60_000);

afterAll(async () => {
  await workers?.stop();
  await stopApi?.();
  await sim?.stop();
  await db?.drop();
  await deletePrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const metricSum = (text: string, name: string): number =>
  text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);

it(
  `${DEPLOYMENTS} deployments through 3 workers on a 60/minute quota: all finish, no 429 fails a job, the wait is measured`,
  async () => {
    const { key } = await createUserWithKey(db.prisma, { email: "quota@example.com", role: "USER" });
    const headers = { authorization: `Bearer ${key}` };
    const up = await fetch(`${apiUrl}/v1/datasets?name=quota`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-ndjson" },
      body: CHAT_DATASET,
    });
    const datasetId = ((await up.json()) as { id: string }).id;
    const started = Date.now();
    for (let i = 0; i < DEPLOYMENTS; i++) {
      const res = await fetch(`${apiUrl}/v1/deployments`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({
          datasetId,
          baseModel: "tiny-llama",
          gpuTypeIds: ["NVIDIA A40", "NVIDIA GeForce RTX 4090"],
          hyperparameters: { steps: 2, sim_step_ms: 50 },
        }),
      });
      expect(res.status).toBe(202);
    }
    await until(
      "every deployment closed",
      async () => (await db.prisma.deployment.count({ where: { podTerminatedAt: { not: null } } })) === DEPLOYMENTS,
      9 * 60_000,
      1000,
    );
    const seconds = Math.round((Date.now() - started) / 1000);
    const failed = await db.prisma.deployment.findMany({
      where: { status: { not: "SUCCEEDED" } },
      select: { status: true, failureReason: true, failureMessage: true },
      take: 3,
    });
    expect(failed).toEqual([]);

    const stats = (await (await sim.admin("/admin/stats")).json()) as {
      total: number;
      rateLimited: number;
      calls: Record<string, number>;
    };
    const calls = (prefixes: string[]) =>
      Object.entries(stats.calls)
        .filter(([k]) => prefixes.some((p) => k.startsWith(p)))
        .reduce((s, [, n]) => s + n, 0);
    const periodic = calls(["GET /v2/pods 2", "GET /v2/pods 4", "GET /v2/pods 5"]);
    const perDeployment = (stats.total - periodic) / DEPLOYMENTS;
    const metrics = await Promise.all(workers.metricsUrls.map(async (u) => (await fetch(u)).text()));
    const waits = metrics.reduce((s, t) => s + metricSum(t, "trainpod_runpod_rate_wait_seconds_count"), 0);
    const waited = metrics.reduce((s, t) => s + metricSum(t, "trainpod_runpod_rate_wait_seconds_sum"), 0);
    process.stdout.write(
      `quota 60/min, 3 workers, ${DEPLOYMENTS} deployments: all closed in ${seconds} s; RunPod calls ${stats.total} (${periodic} periodic listings), ` +
        `${perDeployment.toFixed(2)} per deployment besides them; 429s from the sim: ${stats.rateLimited}; budget waits: ${waits} (${waited.toFixed(1)} s in all)\n`,
    );
    expect(waits).toBeGreaterThan(0);
    expect(workers.output.filter((l) => l.includes("RUNPOD_RATE_LIMITED") && l.includes("final"))).toEqual([]);
    expect(stats.rateLimited).toBe(0);
  },
  10 * 60_000,
);
