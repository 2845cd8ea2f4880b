import {
  assertStoredSecretKeys,
  observeWorkerOutcomes,
  secretsKeyring,
  waitForDatabase,
  type Config,
  type JobName,
} from "@trainpod/core";
import { startWorkers, type WorkerRuntime } from "./bootstrap";
import { createWorkerContainer, type WorkerContainer, type WorkerContainerOverrides } from "./container";
import { startMetricsServer, type MetricsServer } from "./metrics-server";
import { createProcessors, type ProcessorDeps } from "./processors";
import { processorDeps } from "./wiring";

export interface WorkerOverrides extends WorkerContainerOverrides {
  /** which queues this process serves (default all) */
  only?: JobName[];
}

export interface RunningWorker {
  container: WorkerContainer;
  /** the use cases' dependencies, for a test that drives one with another clock */
  deps: ProcessorDeps;
  runtime: WorkerRuntime;
  /** GET /metrics on WORKER_METRICS_HOST:WORKER_METRICS_PORT; null when the port is 0 */
  metricsServer: MetricsServer | null;
  /** stops taking jobs, lets in-flight ones finish (until `timeoutMs`, default SHUTDOWN_TIMEOUT_MS), then closes everything */
  stop(timeoutMs?: number): Promise<{ forced: boolean }>;
}

/**
 * The worker as it runs: the container, Postgres and Redis answering, one BullMQ worker per queue with the
 * processors, their outcome metrics and the metrics server. main.ts, the tests, the benches and the chaos run
 * all start it here.
 */
export async function startWorker(config: Config, overrides: WorkerOverrides = {}): Promise<RunningWorker> {
  const container = createWorkerContainer(config, overrides);
  await waitForDatabase(container.prisma, {
    onRetry: (err, attempt) => container.logger.warn("waiting for postgres", { attempt, error: err.message }),
  });
  await container.connection.ping();
  // secrets stored under a key id SECRETS_KEY / SECRETS_KEYS lacks: stop here, not at a pod's launch
  await assertStoredSecretKeys(container.prisma, secretsKeyring(config));
  const deps = processorDeps(container);
  const runtime = await startWorkers({
    ...container,
    processors: createProcessors(deps),
    ...(overrides.only ? { only: overrides.only } : {}),
  });
  observeWorkerOutcomes(container.metrics, runtime.workers);
  const env = config.env;
  const metricsServer =
    env.WORKER_METRICS_PORT === 0
      ? null
      : await startMetricsServer({
          metrics: container.metrics,
          host: env.WORKER_METRICS_HOST,
          port: env.WORKER_METRICS_PORT,
          token: env.METRICS_TOKEN,
        });
  let stopping: Promise<{ forced: boolean }> | undefined;
  return {
    container,
    deps,
    runtime,
    metricsServer,
    stop(timeoutMs) {
      stopping ??= (async () => {
        const result = await runtime.shutdown(timeoutMs);
        await metricsServer?.close();
        await container.close();
        return result;
      })();
      return stopping;
    },
  };
}
