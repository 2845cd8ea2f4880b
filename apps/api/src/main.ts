import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfigOrExit } from "@trainpod/core";
import { createApp } from "./app";
import { createContainer } from "./container";
import { applyServerLimits } from "./http/server-limits";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const container = createContainer(config);
  const app = createApp(container);
  const server = http.createServer(app);
  applyServerLimits(server, config.env); // before listen: Node reads its timeout-check interval then
  server.listen(config.env.API_PORT, config.env.API_HOST);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  container.logger.info("api listening", { url: `http://${config.env.API_HOST}:${port}`, publicUrl: config.publicUrl });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    container.logger.info("api shutting down", { signal });
    // open event streams end now (clients resume with Last-Event-ID elsewhere) instead of holding the close
    container.timelineHub?.close();
    server.close(() => {
      void container.close().then(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), config.env.SHUTDOWN_TIMEOUT_MS).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
