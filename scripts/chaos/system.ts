/**
 * The system a chaos run drives: its own database (created, migrated, dropped), its own
 * redis-server (appendonly), its own queue prefix, the simulator as a process, the API in this
 * process and K worker processes. Every log line goes to files under one temp folder.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import winston from "winston";
import { startApi } from "@trainpod/api";
import { createLogger, createUserWithKey, loadConfig, type Queues } from "@trainpod/core";
import { freePort } from "../../test/support/free-port";
import { deployMigrations } from "../db/migrate";
import { databaseUrl, quoteIdent, withAdminClient } from "../../test/support/pg-admin";
import { startSimProcess, type SimProcess } from "../../test/support/sim-process";
import { databaseHandle, type TestDatabase } from "../../test/support/test-db";
import { startOwnRedis, type OwnRedis } from "./redis-server";
import { startWorkerPool, type WorkerPool } from "./worker-pool";

/**
 * The schedules a chaos run sets. BullMQ's lock and stalled check are NOT among them: the workers run
 * with the production defaults (WORKER_LOCK_DURATION_MS, WORKER_STALLED_INTERVAL_MS: 30 s each), so a
 * killed worker's jobs wait as long as they would in production.
 */
export interface ChaosTimings {
  monitorMs: number;
  reconcileMs: number;
  requeueAfterMs: number;
}

export interface ChaosSystem {
  dir: string;
  db: TestDatabase;
  redis: OwnRedis;
  sim: SimProcess;
  queues: Queues;
  pool: WorkerPool;
  apiUrl: string;
  podNamePrefix: string;
  user: { key: string; datasetId: string };
  runpodKey: string;
  /** every log file of the run (API, workers) */
  logFiles: string[];
  /** the database's name (kept at stop with CHAOS_KEEP_DB=1) */
  dbName: string;
  /** what the workers run with: BullMQ's lock and stalled check (the defaults) */
  workerSettings: { lockMs: number; stalledMs: number; monitorMs: number; terminateSweepAfterMs: number };
  stop(): Promise<void>;
}

const DATASET = [
  {
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
    ],
  },
  {
    messages: [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "4" },
    ],
  },
]
  .map((r) => JSON.stringify(r))
  .join("\n");

export async function startChaosSystem(opts: {
  workers: number;
  seed: number;
  timings: ChaosTimings;
}): Promise<ChaosSystem> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-chaos-"));
  const tag = randomBytes(4).toString("hex");
  const dbName = `tp_chaos_${tag}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(dbName)}`));
  await deployMigrations({ databaseUrl: databaseUrl(dbName) });
  const db = databaseHandle(dbName, 10);
  const redis = await startOwnRedis(dir);
  const sim = await startSimProcess({
    SIM_BOOT_DELAY_MS: "300",
    SIM_RESTART_DELAY_MS: "300",
    SIM_KILL_GRACE_MS: "500",
    SIM_SEED: String(opts.seed),
  });
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const runpodKey = `rp_chaos_${randomBytes(12).toString("hex")}`;
  const t = opts.timings;
  const env: Record<string, string> = {
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `{tp-chaos-${tag}}`,
    RUNPOD_API_URL: sim.apiUrl,
    RUNPOD_API_KEY: runpodKey,
    RUNPOD_TIMEOUT_MS: "5000",
    // the quota assumed until the sim's RateLimit-Policy header is seen: the sim's default (6000/min)
    RUNPOD_RATE_LIMIT_PER_MINUTE: "6000",
    // the billing job reads the sim's bill (no lag) soon after each termination, retrying every second or so
    BILLING_DELAY_MS: "1000",
    BILLING_RETRY_DELAY_MS: "1000",
    API_HOST: "127.0.0.1",
    API_PORT: String(apiPort),
    PUBLIC_URL: apiUrl,
    DATASET_DIR: path.join(dir, "datasets"),
    ARTIFACT_DIR: path.join(dir, "artifacts"),
    WORKER_CONCURRENCY: "20",
    SHUTDOWN_TIMEOUT_MS: "3000",
    MONITOR_INTERVAL_MS: String(t.monitorMs),
    RECONCILE_INTERVAL_MS: String(t.reconcileMs),
    QUEUED_REQUEUE_AFTER_MS: String(t.requeueAfterMs),
    HEARTBEAT_TIMEOUT_SECONDS: "60",
    RATE_LIMIT_PER_MINUTE: "0",
    // no metrics server: K worker processes on one host would fight for WORKER_METRICS_PORT (9464), all but one
    // exiting at start with EADDRINUSE (the supervisor restarting them every second: ~1 live worker in 3)
    WORKER_METRICS_PORT: "0",
    RATE_LIMIT_RUN_PER_MINUTE: "0",
    // hundreds of deployments of a few users: no budget or slot limit (spend control has its own tests)
    USER_MONTHLY_BUDGET_USD: "0",
    USER_MAX_LIVE_DEPLOYMENTS: "0",
    USER_MAX_GPUS: "0",
  };
  // the production defaults, whatever the caller's shell says
  delete process.env.WORKER_LOCK_DURATION_MS;
  delete process.env.WORKER_STALLED_INTERVAL_MS;
  const config = loadConfig({ ...process.env, ...env });
  const apiLog = path.join(dir, "api.log");
  const logger = createLogger({
    service: "api",
    level: "info",
    format: "json",
    transports: [new winston.transports.Stream({ stream: createWriteStream(apiLog) })],
  });
  // the API as its main.ts starts it (in the Redis restart phase its Redis errors are logged, and it answers 5xx meanwhile)
  const api = await startApi(config, { logger, prisma: db.prisma });
  const apiQueues = api.container.queues;
  const workerLog = path.join(dir, "workers.log");
  const pool = startWorkerPool(opts.workers, env, workerLog);
  const { key } = await createUserWithKey(db.prisma, { email: "chaos@example.com", role: "USER" });
  const up = await fetch(`${apiUrl}/v1/datasets?name=chaos`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
    body: DATASET,
  });
  if (up.status !== 201) throw new Error(`dataset upload failed: ${up.status} ${await up.text()}`);
  const datasetId = ((await up.json()) as { id: string }).id;
  return {
    dir,
    db,
    redis,
    sim,
    queues: apiQueues,
    pool,
    apiUrl,
    podNamePrefix: config.env.POD_NAME_PREFIX,
    user: { key, datasetId },
    runpodKey,
    logFiles: [apiLog, workerLog],
    dbName,
    workerSettings: {
      lockMs: config.env.WORKER_LOCK_DURATION_MS,
      stalledMs: config.env.WORKER_STALLED_INTERVAL_MS,
      monitorMs: config.env.MONITOR_INTERVAL_MS,
      terminateSweepAfterMs: config.env.TERMINATE_SWEEP_AFTER_MS,
    },
    async stop() {
      await pool.stop();
      await api.close();
      await sim.stop();
      // CHAOS_KEEP_DB=1: the database stays for a post-mortem (psql .../<dbName>); drop it by hand after
      if (process.env.CHAOS_KEEP_DB === "1") await db.prisma.$disconnect();
      else await db.drop();
      await redis.stop();
      if (process.env.CHAOS_KEEP_LOGS !== "1") rmSync(dir, { recursive: true, force: true });
    },
  };
}
