import { checkServices, loadConfigOrExit } from "@trainpod/core";
import { startWorker } from "./start-worker";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // PostgreSQL and Redis answer, or the process exits with how to get them (not a loop of connection warnings)
  await checkServices({ databaseUrl: config.env.DATABASE_URL, redisUrl: config.env.REDIS_URL });
  const worker = await startWorker(config);
  const { logger } = worker.container;
  logger.info("worker started", {
    queues: worker.runtime.workers.map((w) => w.name),
    runpod: config.runpod.apiUrl,
    metrics: worker.metricsServer?.url ?? "off",
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info("worker shutting down", { signal });
    const { forced } = await worker.stop();
    logger.info("worker stopped", { forced });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
