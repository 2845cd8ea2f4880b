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
  const workers = names.map((name) => {
    const worker = new Worker(name, (job) => runJob(name, job, deps.processors, deps.logger), {
      connection: deps.connection,
      prefix,
      concurrency: jobCatalog[name].concurrency(deps.config.env.WORKER_CONCURRENCY),
      autorun: true,
    });
    worker.on("error", (err) => deps.logger.error("worker error", { queue: name, error: err.message }));
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  await upsertSchedulers(deps, names);
  return { workers, shutdown: (timeoutMs) => shutdownWorkers(workers, timeoutMs ?? deps.config.env.SHUTDOWN_TIMEOUT_MS) };
}

async function upsertSchedulers(deps: WorkerRuntimeDeps, names: JobName[]): Promise<void> {
  for (const name of names) {
    const key = jobCatalog[name].schedule;
    if (!key) continue;
    await deps.queues[name].upsertJobScheduler(`${name}-every`, { every: deps.config.env[key] }, { name, data: {} });
  }
}

async function shutdownWorkers(workers: Worker[], timeoutMs: number): Promise<{ forced: boolean }> {
  const graceful = Promise.all(workers.map((w) => w.close())).then(() => false);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<true>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const forced = await Promise.race([graceful, deadline]);
  clearTimeout(timer);
  // Forced: jobs still running are abandoned; their locks expire and another worker takes them up.
  if (forced) await Promise.all(workers.map((w) => w.close(true)));
  return { forced };
}
