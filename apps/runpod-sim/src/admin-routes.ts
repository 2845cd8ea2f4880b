/** /admin: the sim's own controls and views (no RunPod equivalent; no auth, never faulted or rate limited). */
import { ConfigError, isRecord, type SimConfig } from "./config";
import { patchConfig } from "./config-apply";
import { BodyError, readJson, sendError, sendJson, sendText, type Route } from "./http-util";
import { toAdminPod } from "./pod-view";
import type { Handler, RouteCall } from "./routes";

function publicConfig(config: SimConfig): Record<string, unknown> {
  const { apiKey, balanceUsd, ...rest } = config;
  return { ...rest, balanceUsd: balanceUsd ?? null, apiKeyRequired: apiKey !== undefined };
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
  sendJson(
    res,
    200,
    sim.pods.store.all().map((pod) => toAdminPod(pod, now)),
  );
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

/**
 * Freezes the pod's container (SIGSTOP to its process group): a machine that hangs or drops off the network, whose
 * pod sends nothing more, heartbeats included. Terminating it still works (SIGKILL reaches a stopped process).
 */
function freezePod({ res, params, sim }: RouteCall): void {
  const pod = sim.pods.store.get(params.podId ?? "");
  const pid = pod?.container?.pid;
  if (pod === undefined || pid === undefined) return sendError(res, 404, `no running container for ${params.podId}`);
  try {
    process.kill(-pid, "SIGSTOP");
  } catch {
    return sendError(res, 409, `pod ${pod.id}'s container is gone`);
  }
  pod.log.note("container frozen (admin)");
  sendJson(res, 200, { frozen: pod.id });
}

async function reset({ res, sim }: RouteCall): Promise<void> {
  await sim.pods.terminateAll(true);
  sim.stats.reset();
  sim.limiter.reset();
  sim.faults.reset(sim.config().seed);
  sendJson(res, 200, { reset: true });
}

function stats({ res, sim }: RouteCall): void {
  const pods = sim.pods.store.all();
  const byStatus: Record<string, number> = {};
  for (const p of pods) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
  sendJson(res, 200, {
    ...sim.stats.snapshot(),
    faults: { ...sim.faults.injected },
    pods: {
      total: pods.length,
      ...byStatus,
      // v1-era counts, by desired status (stopped = EXITED by the stop action)
      running: pods.filter((p) => p.status !== "TERMINATED" && !p.stopped).length,
      exited: pods.filter((p) => p.status !== "TERMINATED" && p.stopped).length,
      terminated: byStatus.TERMINATED ?? 0,
    },
    capacity: sim.pods.capacity.snapshot(),
  });
}

export const ADMIN_ROUTES: readonly Route<Handler>[] = [
  { method: "GET", template: "/admin/pods", handler: listPods },
  { method: "GET", template: "/admin/pods/{podId}", handler: getPod },
  { method: "GET", template: "/admin/pods/{podId}/logs", handler: podLogs },
  { method: "POST", template: "/admin/pods/{podId}/freeze", handler: freezePod },
  {
    method: "GET",
    template: "/admin/config",
    handler: ({ res, sim }) => sendJson(res, 200, publicConfig(sim.config())),
  },
  { method: "PATCH", template: "/admin/config", handler: patchConfigRoute },
  { method: "POST", template: "/admin/reset", handler: reset },
  { method: "GET", template: "/admin/stats", handler: stats },
];
