import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { JOB_NAMES, jobCatalog, type Config, type JobName, type Logger, type Queues } from "@trainpod/core";
import type { ProcessorMap } from "./processor";
import { runJob } from "./run-job";

export interface WorkerRuntimeDeps {
  config: Config;
  logger: Logger;
  /** connection for the workers (blocking commands: maxRetriesPerRequest null) */
  connection: Redis;
  queues: Queues;
  processors: ProcessorMap;
  /** which queues this process serves (default all) */
  only?: JobName[];
}

export interface WorkerRuntime {
  workers: Worker[];
  /** Stops taking jobs, lets in-flight ones finish until the timeout, then releases them. */
  shutdown(timeoutMs?: number): Promise<{ forced: boolean }>;
}

function assertComplete(processors: ProcessorMap): void {
  const missing = JOB_NAMES.filter((n) => typeof processors[n] !== "function");
  if (missing.length > 0) throw new Error(`no processor registered for: ${missing.join(", ")}`);
}

/** Starts one BullMQ Worker per job queue, and the job schedulers of the periodic jobs. */
export async function startWorkers(deps: WorkerRuntimeDeps): Promise<WorkerRuntime> {
  assertComplete(deps.processors);
  const names = deps.only ?? [...JOB_NAMES];
  const prefix = deps.config.env.QUEUE_PREFIX;
  const connections: Redis[] = [];
  const workers = names.map((name) => {
    // each worker its own connection, so a forced shutdown can cut it without touching the caller's
    const connection = deps.connection.duplicate();
    connections.push(connection);
    const worker = new Worker(name, (job, _token, signal) => runJob(name, job, deps.processors, deps.logger, signal), {
      connection,
      prefix,
      concurrency: jobCatalog[name].concurrency(deps.config.env.WORKER_CONCURRENCY),
      lockDuration: deps.config.env.WORKER_LOCK_DURATION_MS,
      stalledInterval: deps.config.env.WORKER_STALLED_INTERVAL_MS,
      autorun: true,
    });
    worker.on("error", (err) => deps.logger.error("worker error", { queue: name, error: err.message }));
    worker.on("stalled", (jobId) =>
      deps.logger.warn("job stalled (its worker stopped renewing the lock); run again", { queue: name, jobId }),
    );
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  await upsertSchedulers(deps, names);
  return {
    workers,
    shutdown: async (timeoutMs) => {
      const result = await shutdownWorkers(workers, timeoutMs ?? deps.config.env.SHUTDOWN_TIMEOUT_MS);
      for (const c of connections) c.disconnect();
      return result;
    },
  };
}

async function upsertSchedulers(deps: WorkerRuntimeDeps, names: JobName[]): Promise<void> {
  for (const name of names) {
    const key = jobCatalog[name].schedule;
    if (!key) continue;
    await deps.queues[name].upsertJobScheduler(`${name}-every`, { every: deps.config.env[key] }, { name, data: {} });
  }
}

const CANCEL_GRACE_MS = 2_000;

function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), deadline]).finally(() => clearTimeout(timer));
}

/**
 * Stops taking jobs and waits for in-flight ones. Past the timeout, signals them to abort
 * (processors get an AbortSignal) and, if they still hang, the caller drops the connections: their
 * locks lapse and BullMQ's stalled check hands them to another worker. Nothing is lost either way.
 */
async function shutdownWorkers(workers: Worker[], timeoutMs: number): Promise<{ forced: boolean }> {
  const closing = Promise.all(workers.map((w) => w.close()));
  if (await settleWithin(closing, timeoutMs)) return { forced: false };
  for (const w of workers) w.cancelAllJobs("worker shutting down");
  await settleWithin(closing, CANCEL_GRACE_MS);
  return { forced: true };
}
