import { loadConfigOrExit, observeWorkerOutcomes, waitForDatabase } from "@trainpod/core";
import { startWorkers } from "./bootstrap";
import { createWorkerContainer } from "./container";
import { startMetricsServer } from "./metrics-server";
import { createProcessors } from "./processors";
import { processorDeps } from "./wiring";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const container = createWorkerContainer(config);
  await waitForDatabase(container.prisma, { onRetry: (err, attempt) => container.logger.warn("waiting for postgres", { attempt, error: err.message }) });
  await container.connection.ping();
  const runtime = await startWorkers({ ...container, processors: createProcessors(processorDeps(container)) });
  observeWorkerOutcomes(container.metrics, runtime.workers);
  const env = config.env;
  const metricsServer = env.WORKER_METRICS_PORT === 0 ? null : await startMetricsServer({ metrics: container.metrics, host: env.WORKER_METRICS_HOST, port: env.WORKER_METRICS_PORT, token: env.METRICS_TOKEN });
  container.logger.info("worker started", { queues: runtime.workers.map((w) => w.name), runpod: config.runpod.apiUrl, metrics: metricsServer?.url ?? "off" });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    container.logger.info("worker shutting down", { signal });
    const { forced } = await runtime.shutdown();
    await metricsServer?.close();
    await container.close();
    container.logger.info("worker stopped", { forced });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
