/** /admin: the sim's own controls and views (no RunPod equivalent; never faulted, no auth). */
import { ConfigError, applyCapacity, applyFaults, isRecord, type SimConfig } from "./config";
import { BodyError, readJson, sendError, sendJson, sendText, type Route } from "./http-util";
import { toAdminPod } from "./pod-view";
import type { Handler, RouteCall } from "./routes";

function publicConfig(config: SimConfig): Record<string, unknown> {
  const { apiKey, ...rest } = config;
  return { ...rest, apiKeyRequired: apiKey !== undefined };
}

const MS_KEYS = ["bootDelayMs", "restartDelayMs", "killGraceMs"] as const;

/** Applies a PATCH /admin/config body to the config; throws ConfigError on a bad value. */
export function patchConfig(current: SimConfig, patch: unknown): SimConfig {
  if (!isRecord(patch)) throw new ConfigError("body must be a JSON object");
  let next: SimConfig = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if ((MS_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new ConfigError(`${key} must be a non-negative integer`);
      next = { ...next, [key]: value };
    } else if (key === "restartPolicy") {
      if (value !== "always" && value !== "never") throw new ConfigError("restartPolicy must be always or never");
      next.restartPolicy = value;
    } else if (key === "capacity") next.capacity = applyCapacity(next.capacity, value);
    else if (key === "faults") next.faults = applyFaults(next.faults, value);
    else if (key === "seed") {
      if (typeof value !== "number" || !Number.isInteger(value)) throw new ConfigError("seed must be an integer");
      next.seed = value;
    } else throw new ConfigError(`unknown setting "${key}"`);
  }
  return next;
}

async function patchConfigRoute({ req, res, sim }: RouteCall): Promise<void> {
  try {
    const body = await readJson(req);
    const next = patchConfig(sim.config(), body);
    if (isRecord(body) && "seed" in body) sim.faults.reset(next.seed);
    sim.setConfig(next);
    sendJson(res, 200, publicConfig(next));
  } catch (err) {
    if (err instanceof ConfigError || err instanceof BodyError) return sendError(res, 400, err.message);
    throw err;
  }
}

function listPods({ res, sim }: RouteCall): void {
  const now = Date.now();
  sendJson(res, 200, sim.pods.store.all().map((pod) => toAdminPod(pod, now)));
}

function getPod({ res, params, sim }: RouteCall): void {
  const pod = sim.pods.store.get(params.podId ?? "");
  if (pod === undefined) return sendError(res, 404, `no pod ${params.podId ?? ""}`);
  sendJson(res, 200, toAdminPod(pod, Date.now()));
}

function podLogs({ res, params, sim }: RouteCall): void {
  const pod = sim.pods.store.get(params.podId ?? "");
  if (pod === undefined) return sendError(res, 404, `no pod ${params.podId ?? ""}`);
  sendText(res, 200, pod.log.tail(), "text/plain; charset=utf-8", { "x-log-path": pod.log.path });
}

async function reset({ res, sim }: RouteCall): Promise<void> {
  await sim.pods.terminateAll(true);
  sim.stats.reset();
  sim.faults.reset(sim.config().seed);
  sendJson(res, 200, { reset: true });
}

function stats({ res, sim }: RouteCall): void {
  const pods = sim.pods.store.all();
  const count = (pred: (p: (typeof pods)[number]) => boolean): number => pods.filter(pred).length;
  sendJson(res, 200, {
    ...sim.stats.snapshot(),
    faults: { ...sim.faults.injected },
    pods: {
      total: pods.length,
      running: count((p) => p.desiredStatus === "RUNNING"),
      exited: count((p) => p.desiredStatus === "EXITED"),
      terminated: count((p) => p.desiredStatus === "TERMINATED"),
    },
    capacity: sim.pods.capacity.snapshot(),
  });
}

export const ADMIN_ROUTES: readonly Route<Handler>[] = [
  { method: "GET", template: "/admin/pods", handler: listPods },
  { method: "GET", template: "/admin/pods/{podId}", handler: getPod },
  { method: "GET", template: "/admin/pods/{podId}/logs", handler: podLogs },
  { method: "GET", template: "/admin/config", handler: ({ res, sim }) => sendJson(res, 200, publicConfig(sim.config())) },
  { method: "PATCH", template: "/admin/config", handler: patchConfigRoute },
  { method: "POST", template: "/admin/reset", handler: reset },
  { method: "GET", template: "/admin/stats", handler: stats },
];
