/** The sim's HTTP server: RunPod REST v2 under /v2 (auth, quota, faults) and the sim's own /admin. */
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
import { RateLimiter } from "./rate-limit";
import { V2_ROUTES, type Caller, type Handler, type SimContext, type V2Route } from "./routes";
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
    limiter: new RateLimiter(() => config.quota),
  };
  const server = createServer((req, res) => {
    handle(req, res, sim).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BodyError) return sendError(res, 400, err.message);
      if (err instanceof ApiError) return sendError(res, err.status, err.message);
      process.stderr.write(
        `runpod-sim: ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      sendError(res, 500, "Internal server error");
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

/** The account key (SIM_API_KEY, or any key when unset) or a live pod-scoped key; undefined = 401. */
function authenticate(req: IncomingMessage, sim: SimContext): Caller | undefined {
  const key = /^Bearer\s+(\S.*)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();
  if (key === undefined || key === "") return undefined;
  const pod = sim.pods.store.byApiKey(key);
  if (pod !== undefined) return pod.status === "TERMINATED" ? undefined : { kind: "pod", podId: pod.id };
  const wanted = sim.config().apiKey;
  return wanted === undefined || key === wanted ? { kind: "account" } : undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse, sim: SimContext): Promise<void> {
  const url = new URL(req.url ?? "/", "http://runpod-sim");
  const method = (req.method ?? "GET").toUpperCase();
  const pathname = url.pathname.replace(/\/+$/, "") || "/";
  if (pathname === "/admin" || pathname.startsWith("/admin/")) return dispatchAdmin(req, res, url, sim);
  if (pathname === "/health") return sendJson(res, 200, { ok: true });
  if (pathname === "/v1" || pathname.startsWith("/v1/"))
    return sendError(
      res,
      404,
      "RunPod REST API v1 was retired on 2026-11-15: use REST API v2 (https://api.runpod.io/v2; here /v2)",
    );
  if (!pathname.startsWith("/v2/"))
    return sendError(res, 404, `no route ${method} ${url.pathname} (RunPod REST v2 lives under /v2)`);
  const found = matchRoute(V2_ROUTES, method, pathname);
  const route = "route" in found ? found.route.template : (found.template ?? "unmatched");
  const decision = sim.faults.decide(sim.config().faults, method, route);
  if (decision.delayMs > 0) await sleep(decision.delayMs);
  if (decision.outcome?.kind === "drop") {
    sim.stats.record(method, route, "dropped");
    req.socket.destroy();
    return;
  }
  res.on("finish", () => sim.stats.record(method, route, res.statusCode));
  const caller = authenticate(req, sim);
  const hasKey = /^Bearer\s+\S/i.test(req.headers.authorization ?? "");
  if (caller === undefined)
    return sendError(res, 401, hasKey ? "invalid or expired bearer token" : "missing bearer token");
  if (decision.outcome !== null) return answerFault(res, decision.outcome, sim);
  const quota = sim.limiter.take();
  for (const [name, value] of Object.entries(quota.headers)) res.setHeader(name, value);
  if (!quota.ok) {
    sim.stats.rateLimited += 1;
    return sendError(res, 429, `rate limit exceeded for the ${quota.window} window`, {
      "retry-after": String(quota.retryAfterSeconds),
    });
  }
  if (!("route" in found)) {
    if (found.template === null) return sendError(res, 404, `no route ${method} ${url.pathname}`);
    return sendError(
      res,
      405,
      `The requested method is not allowed for this path (allowed: ${found.allowed.join(", ")}).`,
      { allow: found.allowed.join(", ") },
    );
  }
  const v2 = found.route as V2Route;
  if (caller.kind === "pod" && !(v2.podScoped === true && found.params.id === caller.podId)) {
    return sendError(res, 403, "access denied: a pod-scoped API key may only read, act on, and terminate its own pod");
  }
  await v2.handler({ req, res, params: found.params, query: url.searchParams, sim, caller });
}

async function dispatchAdmin(req: IncomingMessage, res: ServerResponse, url: URL, sim: SimContext): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const found = matchRoute(ADMIN_ROUTES as readonly Route<Handler>[], method, url.pathname);
  if (!("route" in found)) {
    if (found.template === null) return sendError(res, 404, `no route ${method} ${url.pathname}`);
    return sendError(res, 405, `method ${method} not allowed on ${url.pathname}`, { allow: found.allowed.join(", ") });
  }
  await found.route.handler({
    req,
    res,
    params: found.params,
    query: url.searchParams,
    sim,
    caller: { kind: "account" },
  });
}

/** An injected fault: 429 and 500 as the API answers them (quota headers, not counted); 502/503 as a load balancer does. */
function answerFault(res: ServerResponse, outcome: NonNullable<FaultDecision["outcome"]>, sim: SimContext): void {
  if (outcome.kind === "rateLimit") {
    return sendError(res, 429, "rate limit exceeded for the minute window", {
      ...sim.limiter.peek(),
      "retry-after": String(outcome.retryAfterSeconds),
    });
  }
  if (outcome.kind !== "serverError") return;
  if (outcome.status === 500) return sendError(res, 500, "Internal server error", sim.limiter.peek());
  if (outcome.status === 502)
    return sendText(
      res,
      502,
      "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n",
      "text/html",
    );
  return sendText(
    res,
    503,
    "upstream connect error or disconnect/reset before headers. reset reason: overflow",
    "text/plain",
    { "retry-after": "1" },
  );
}
