import http from "node:http";
import type { AddressInfo } from "node:net";
import { hasMetricsToken, type Metrics } from "@trainpod/core";

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The worker's GET /metrics (Prometheus text) on its own small server. Bound to `host` (default
 * loopback); when METRICS_TOKEN is set, it must come as a bearer token.
 */
export async function startMetricsServer(opts: {
  metrics: Metrics;
  host: string;
  port: number;
  token?: string;
}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "NOT_FOUND", message: "only GET /metrics here" } }));
      return;
    }
    if (opts.token !== undefined && !hasMetricsToken(req.headers.authorization, opts.token)) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "UNAUTHORIZED", message: "Bearer METRICS_TOKEN required" } }));
      return;
    }
    opts.metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": opts.metrics.registry.contentType }).end(text),
      (err: unknown) =>
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end(`metrics failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
