import { checkServices, loadConfigOrExit } from "@trainpod/core";
import { startApi } from "./start-api";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // PostgreSQL and Redis answer, or the process exits with how to get them (not a loop of connection warnings)
  await checkServices({ databaseUrl: config.env.DATABASE_URL, redisUrl: config.env.REDIS_URL });
  const api = await startApi(config);
  const { logger } = api.container;
  logger.info("api listening", { url: api.url, publicUrl: config.publicUrl });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info("api shutting down", { signal });
    setTimeout(() => process.exit(1), config.env.SHUTDOWN_TIMEOUT_MS).unref();
    // open event streams end at once (clients resume with Last-Event-ID elsewhere) instead of holding the close
    void api.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
