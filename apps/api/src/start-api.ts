import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import type { Config } from "@trainpod/core";
import { createApp } from "./app";
import { createContainer, type ApiContainer, type ApiOverrides } from "./container";
import { applyServerLimits } from "./http/server-limits";

export interface RunningApi {
  /** http://API_HOST:<port> (the port the server got when API_PORT is 0) */
  url: string;
  server: http.Server;
  app: Express;
  container: ApiContainer;
  /** open event streams end, the server stops accepting, connections close, then Redis, queues and Postgres */
  close(): Promise<void>;
}

/**
 * The API as it runs: the container, the app, an HTTP server with its limits, listening on API_HOST:API_PORT.
 * main.ts, the tests, the benches and the chaos run all start it here.
 */
export async function startApi(config: Config, overrides: ApiOverrides = {}): Promise<RunningApi> {
  const container = createContainer(config, overrides);
  const app = createApp(container);
  const server = http.createServer(app);
  applyServerLimits(server, config.env); // before listen: Node reads its timeout-check interval then
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.env.API_PORT, config.env.API_HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.env.API_HOST}:${port}`,
    server,
    app,
    container,
    close() {
      closing ??= (async () => {
        container.timelineHub.close();
        const closed = new Promise((resolve) => server.close(resolve));
        server.closeIdleConnections();
        server.closeAllConnections();
        await closed;
        await container.close();
      })();
      return closing;
    },
  };
}
