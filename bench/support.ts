/**
 * Shared by the bench/ scripts: a throwaway migrated database, the whole system started in this
 * process (simulator as its own process, API on a real port, optionally the worker), percentiles,
 * and the results table (printed, and appended as JSON lines to $BENCH_RESULTS for bench/run-all.ts).
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import winston from "winston";
import { createLogger, createUserWithKey, loadConfig, type Config, type Logger } from "@trainpod/core";
import { startApi } from "@trainpod/api";
import { startWorker, type ProcessorDeps, type WorkerContainer } from "@trainpod/worker";
import { deployMigrations } from "../scripts/db/migrate";
import { databaseUrl, quoteIdent, withAdminClient } from "../test/support/pg-admin";
import { startSimProcess, type SimProcess } from "../test/support/sim-process";
import { databaseHandle, type TestDatabase } from "../test/support/test-db";
import { deletePrefix } from "../test/support/test-redis";
import { freePort } from "../test/support/free-port";
export { until } from "../test/support/until";

/** BENCH_QUICK=1: every benchmark shortened to a few seconds (a smoke run, not a measurement). */
export const QUICK = process.env.BENCH_QUICK === "1";
/** RUNPOD_RATE_LIMIT_PER_MINUTE of every bench system: the simulator's default quota (6,000 a minute) */
export const BENCH_ASSUMED_RUNPOD_QUOTA = process.env.BENCH_RUNPOD_QUOTA_PER_MINUTE ?? "6000";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export type BenchDb = TestDatabase;

export async function createBenchDb(maxConnections = 10): Promise<BenchDb> {
  const name = `tp_bench_${randomBytes(4).toString("hex")}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  await deployMigrations({ databaseUrl: databaseUrl(name) });
  return databaseHandle(name, maxConnections);
}

/** A logger at production's default level (info) whose output is formatted and then discarded. */
export function discardLogger(service: string): Logger {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return createLogger({
    service,
    level: process.env.BENCH_LOG_LEVEL ?? "info",
    format: "json",
    transports: [new winston.transports.Stream({ stream: sink })],
  });
}

export interface BenchSystem {
  config: Config;
  db: BenchDb;
  apiUrl: string;
  prefix: string;
  sim: SimProcess;
  worker?: { container: WorkerContainer; deps: ProcessorDeps };
  /** a user with an API key and an uploaded dataset */
  user: { id: string; key: string; datasetId: string };
  simStats(): Promise<SimStats>;
  stop(): Promise<void>;
}

export interface SimStats {
  calls: Record<string, number>;
  pods?: Record<string, number>;
  [k: string]: unknown;
}

/** RunPod API calls (/v2 routes, not /admin) in a stats snapshot, optionally only those matching `re`. */
export function runpodCalls(stats: SimStats, re: RegExp = /./): number {
  return Object.entries(stats.calls)
    .filter(([k]) => !k.includes("/admin") && re.test(k))
    .reduce((n, [, v]) => n + v, 0);
}

/** RunPod API v2 calls between two `/admin/stats` snapshots, by kind (keys are "METHOD /v2/template STATUS"). */
export interface CallSplit {
  total: number;
  /** POST /v2/pods */
  creates: number;
  /** DELETE /v2/pods/{id} */
  deletes: number;
  /** GET /v2/catalog/gpus[/{id}] */
  catalog: number;
  /** GET /v2/pods (the monitor's and reconcile's listings, adoption look-ups) */
  listings: number;
  /** GET /v2/billing/pods (part of `other`) */
  billing: number;
  /** everything else (billing reads, GET /v2/pods/{id}, logs, actions) */
  other: number;
  /** every route and status with a non-zero count, "KEY: n" */
  byRoute: string[];
}

export function callSplit(before: SimStats, after: SimStats): CallSplit {
  const s: CallSplit = { total: 0, creates: 0, deletes: 0, catalog: 0, listings: 0, billing: 0, other: 0, byRoute: [] };
  for (const [k, v] of Object.entries(after.calls).sort(([a], [b]) => a.localeCompare(b))) {
    if (k.includes("/admin")) continue;
    const n = v - (before.calls[k] ?? 0);
    if (n === 0) continue;
    s.byRoute.push(`${k}: ${n}`);
    s.total += n;
    const [method, route] = k.split(" ");
    if (method === "POST" && route === "/v2/pods") s.creates += n;
    else if (method === "DELETE" && route === "/v2/pods/{id}") s.deletes += n;
    else if (method === "GET" && route?.startsWith("/v2/catalog/gpus")) s.catalog += n;
    else if (method === "GET" && route === "/v2/pods") s.listings += n;
    else {
      if (route === "/v2/billing/pods") s.billing += n;
      s.other += n;
    }
  }
  return s;
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

export async function startBenchSystem(opts: {
  worker: boolean;
  env?: Record<string, string>;
  simEnv?: Record<string, string>;
}): Promise<BenchSystem> {
  const sim = await startSimProcess({
    SIM_BOOT_DELAY_MS: "0",
    SIM_RESTART_DELAY_MS: "200",
    SIM_KILL_GRACE_MS: "500",
    ...opts.simEnv,
  });
  const db = await createBenchDb();
  const prefix = `{tp-bench-${randomBytes(5).toString("hex")}}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-bench-"));
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    ...process.env,
    NODE_ENV: "production",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    API_HOST: "127.0.0.1",
    API_PORT: String(port),
    // the load generator keeps its connections
    API_KEEP_ALIVE_TIMEOUT_MS: "60000",
    WORKER_METRICS_PORT: "0",
    PUBLIC_URL: apiUrl,
    RUNPOD_API_URL: sim.apiUrl,
    RATE_LIMIT_PER_MINUTE: "0",
    RATE_LIMIT_RUN_PER_MINUTE: "0",
    // the RunPod quota assumed until the sim's first answer (then the shared budget follows its
    // RateLimit headers): the sim's default quota, so the first seconds are not paced at 60/min
    RUNPOD_RATE_LIMIT_PER_MINUTE: BENCH_ASSUMED_RUNPOD_QUOTA,
    DATASET_DIR: path.join(dir, "datasets"),
    ARTIFACT_DIR: path.join(dir, "artifacts"),
    // thousands of deployments of one user: no budget or slot limit (spend control has its own tests)
    USER_MONTHLY_BUDGET_USD: "0",
    USER_MAX_LIVE_DEPLOYMENTS: "0",
    USER_MAX_GPUS: "0",
    ...opts.env,
  });
  // the API and the worker exactly as their main.ts starts them
  const api = await startApi(config, { logger: discardLogger("api"), prisma: db.prisma });
  const running = opts.worker ? await startWorker(config, { logger: discardLogger("worker") }) : undefined;
  const worker: BenchSystem["worker"] = running ? { container: running.container, deps: running.deps } : undefined;
  const { user, key } = await createUserWithKey(db.prisma, { email: "bench@example.com", role: "USER" });
  const up = await fetch(`${apiUrl}/v1/datasets?name=bench`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
    body: DATASET,
  });
  if (up.status !== 201) throw new Error(`dataset upload failed: ${up.status} ${await up.text()}`);
  const datasetId = ((await up.json()) as { id: string }).id;
  return {
    config,
    db,
    apiUrl,
    prefix,
    sim,
    worker,
    user: { id: user.id, key, datasetId },
    simStats: async () => (await (await sim.admin("/admin/stats")).json()) as SimStats,
    async stop() {
      await running?.stop(5000);
      await api.close();
      await sim.stop();
      await db.drop();
      await deletePrefix(prefix, REDIS_URL);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The body of a deployment request for this system's user. */
export function deploymentBody(sys: BenchSystem, hyperparameters: Record<string, unknown>): string {
  return JSON.stringify({
    datasetId: sys.user.datasetId,
    baseModel: "tiny-llama",
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    hyperparameters,
    maxRuntimeMinutes: 60,
    maxCostUsd: "10",
  });
}

export async function submit(sys: BenchSystem, hyperparameters: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${sys.apiUrl}/v1/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${sys.user.key}`, "content-type": "application/json" },
    body: deploymentBody(sys, hyperparameters),
  });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}
export const median = (xs: number[]): number => percentile(xs, 50);

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export interface Row {
  bench: string;
  metric: string;
  value: string;
  target?: string;
  /** true/false against the target; undefined when the figure has no target */
  met?: boolean;
}

/** Prints the rows as a table and appends them to $BENCH_RESULTS (JSON lines) when set. */
export function report(rows: Row[], notes: string[] = []): void {
  const head = ["bench", "metric", "value", "target", "met"];
  const cells = rows.map((r) => [
    r.bench,
    r.metric,
    r.value,
    r.target ?? "",
    r.met === undefined ? "" : r.met ? "met" : "NOT MET",
  ]);
  process.stdout.write(`${table(head, cells)}${notes.map((n) => `  ${n}\n`).join("")}`);
  if (process.env.BENCH_RESULTS) {
    for (const r of rows) appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify({ ...r, quick: QUICK })}\n`);
    for (const n of notes)
      appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify({ note: n, bench: rows[0]?.bench ?? "" })}\n`);
  }
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `${r.map((c, i) => c.padEnd(widths[i] as number)).join("  ")}\n`;
  return line(head) + line(widths.map((w) => "-".repeat(w))) + rows.map(line).join("");
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function rssMb(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

export function main(fn: () => Promise<void>): void {
  fn().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** Busy CPU time of the whole machine so far (all cores, from /proc/stat), in ms. */
export function machineBusyMs(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8");
    const [, user, nice, system, , , irq, softirq, steal] = (f.split("\n")[0] as string)
      .trim()
      .split(/\s+/)
      .map(Number) as number[];
    const hz = 100;
    return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / hz;
  } catch {
    return NaN;
  }
}

/**
 * CPU time of process `pid` and of its children it has reaped (utime + stime + cutime + cstime), in
 * ms: for the simulator, its own work plus every pod process that has exited.
 */
export function processTreeCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    // after "pid (comm) ", field 3 (state) is index 0, so utime (14) is index 11
    const ticks = (fields[11] ?? 0) + (fields[12] ?? 0) + (fields[13] ?? 0) + (fields[14] ?? 0);
    return (ticks * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** CPU time of this process (API + worker when in-process) so far, in ms. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU time so far of every process named `comm` (e.g. postgres, redis-server) with the children each has reaped,
 * in ms (/proc; NaN where there is none). Postgres's backends exit with their connection: the postmaster's reaped
 * children keep their time.
 */
export function namedProcessesCpuMs(comm: string): number {
  try {
    let total = 0;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let name: string;
      try {
        name = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      } catch {
        continue; // gone meanwhile
      }
      if (name === comm) total += processTreeCpuMs(Number(entry)) || 0;
    }
    return total;
  } catch {
    return NaN;
  }
}
