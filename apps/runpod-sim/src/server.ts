/** The sim's HTTP server: RunPod REST v1 under /v1 (auth, faults) and the sim's own /admin. */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ADMIN_ROUTES } from "./admin-routes";
import { defaultConfig, type SimConfig } from "./config";
import { FaultInjector, type FaultDecision } from "./faults";
import { BodyError, matchRoute, sendError, sendJson, sendText, type Route } from "./http-util";
import { ApiError, PodManager } from "./pods";
import { V1_ROUTES, type Handler, type SimContext } from "./routes";
import { CallStats } from "./stats";

export interface SimServer {
  url: string;
  /** where pod folders (workspace, home, container.log) live */
  dataDir: string;
  /** kills every pod's processes, then stops listening */
  close(): Promise<void>;
}

/** Starts a sim. Anything not given comes from defaultConfig() (port 8765: pass port 0 for a random one). */
export async function createSimServer(overrides: Partial<SimConfig> = {}): Promise<SimServer> {
  let config = defaultConfig(overrides);
  const ownsDataDir = config.dataDir === undefined;
  const dataDir = config.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "runpod-sim-"));
  const sim: SimContext = {
    pods: new PodManager(() => config, dataDir, path.resolve(__dirname, "..", "bin")),
    config: () => config,
    setConfig: (next) => {
      config = next;
    },
    faults: new FaultInjector(config.seed),
    stats: new CallStats(),
  };
  const server = createServer((req, res) => {
    handle(req, res, sim).catch((err: unknown) => {
      if (err instanceof BodyError) return sendError(res, 400, err.message);
      if (err instanceof ApiError) return sendError(res, err.status, err.message);
      process.stderr.write(`runpod-sim: ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      if (!res.headersSent) sendError(res, 500, "Internal server error");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`,
    dataDir,
    close: () =>
      (closing ??= (async () => {
        await sim.pods.terminateAll(false);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, sim: SimContext): Promise<void> {
  const url = new URL(req.url ?? "/", "http://runpod-sim");
  const method = (req.method ?? "GET").toUpperCase();
  if (url.pathname === "/admin" || url.pathname.startsWith("/admin/")) return dispatch(ADMIN_ROUTES, req, res, url, url.pathname, sim);
  if (url.pathname === "/health") return sendJson(res, 200, { ok: true });
  if (!url.pathname.startsWith("/v1/")) return sendError(res, 404, `no route ${method} ${url.pathname} (RunPod REST lives under /v1)`);
  const pathname = url.pathname.slice("/v1".length);
  const found = matchRoute(V1_ROUTES, method, pathname);
  const route = "route" in found ? found.route.template : (found.template ?? "unmatched");
  const decision = sim.faults.decide(sim.config().faults, method, route);
  if (decision.delayMs > 0) await sleep(decision.delayMs);
  if (decision.outcome?.kind === "drop") {
    sim.stats.record(method, route, "dropped");
    req.socket.destroy();
    return;
  }
  res.on("finish", () => sim.stats.record(method, route, res.statusCode));
  if (decision.outcome !== null) return answerFault(res, decision.outcome);
  const key = /^Bearer\s+(\S.*)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();
  const wanted = sim.config().apiKey;
  // openapi-v1.json's UnauthorizedError: {"message": ...}
  if (key === undefined || (wanted !== undefined && key !== wanted)) return sendJson(res, 401, { message: "Unauthorized" });
  return dispatch(V1_ROUTES, req, res, url, pathname, sim);
}

async function dispatch(routes: readonly Route<Handler>[], req: IncomingMessage, res: ServerResponse, url: URL, pathname: string, sim: SimContext): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const found = matchRoute(routes, method, pathname);
  if (!("route" in found)) {
    if (found.template === null) return sendError(res, 404, `no route ${method} ${url.pathname}`);
    return sendError(res, 405, `method ${method} not allowed on ${url.pathname}`, { allow: found.allowed.join(", ") });
  }
  await found.route.handler({ req, res, params: found.params, query: url.searchParams, sim });
}

function answerFault(res: ServerResponse, outcome: NonNullable<FaultDecision["outcome"]>): void {
  if (outcome.kind === "rateLimit") {
    return sendError(res, 429, "Too many requests: rate limit exceeded", { "retry-after": String(outcome.retryAfterSeconds) });
  }
  if (outcome.kind !== "serverError") return;
  // 500 from the API itself; 502/503 the way a load balancer in front of it answers
  if (outcome.status === 500) return sendError(res, 500, "Internal server error");
  if (outcome.status === 502) return sendText(res, 502, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n", "text/html");
  return sendText(res, 503, "upstream connect error or disconnect/reset before headers. reset reason: overflow", "text/plain", { "retry-after": "1" });
}
