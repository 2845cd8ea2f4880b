/** RunPod REST v2 (base /v2): pods, answered like https://api.runpod.io/v2 (openapi-v2.json). */
import type { IncomingMessage, ServerResponse } from "node:http";
import { CATALOG_ROUTES } from "./catalog-routes";
import { BILLING_ROUTES } from "./billing-routes";
import type { SimConfig } from "./config";
import { isRecord } from "./config";
import type { FaultInjector } from "./faults";
import { readJson, sendEmpty, sendError, sendJson, type Params, type Route } from "./http-util";
import { streamPodLogs } from "./log-stream";
import { parsePodInput } from "./pod-input";
import type { SimPod } from "./pod-store";
import { toApiPod } from "./pod-view";
import { ApiError, type PodAction, type PodManager } from "./pods";
import type { RateLimiter } from "./rate-limit";
import type { CallStats } from "./stats";
import { VOLUME_ROUTES } from "./volume-routes";

export interface SimContext {
  pods: PodManager;
  config(): SimConfig;
  setConfig(next: SimConfig): void;
  faults: FaultInjector;
  stats: CallStats;
  limiter: RateLimiter;
}

/** Who is calling: the account (SIM_API_KEY) or one pod's pod-scoped RUNPOD_API_KEY. */
export type Caller = { kind: "account" } | { kind: "pod"; podId: string };

export interface RouteCall {
  req: IncomingMessage;
  res: ServerResponse;
  params: Params;
  query: URLSearchParams;
  sim: SimContext;
  caller: Caller;
}

export type Handler = (call: RouteCall) => Promise<void> | void;

/** A /v2 route; `podScoped`: a pod-scoped key may call it for its own pod ({id}). */
export type V2Route = Route<Handler> & { podScoped?: boolean };

function podOr404(call: RouteCall): SimPod | undefined {
  const pod = call.sim.pods.store.visible(call.params.id ?? "");
  if (pod === undefined) sendError(call.res, 404, `The requested Pod does not exist: ${call.params.id ?? ""}`);
  return pod;
}

async function createPod({ req, res, sim }: RouteCall): Promise<void> {
  const body = await readJson(req);
  const gpuId =
    isRecord(body) && isRecord(body.gpu) && typeof body.gpu.id === "string" ? body.gpu.id : "(invalid body)";
  res.once("finish", () => sim.stats.recordCreate(gpuId, res.statusCode));
  const parsed = parsePodInput(body);
  if (!parsed.ok) {
    if (parsed.status === 422) return sendError(res, 422, "Request validation failed.", {}, parsed.errors);
    return sendError(res, 400, parsed.detail);
  }
  const pod = sim.pods.create(parsed.input);
  // RunPod sometimes creates the pod and still answers 5xx: clients must adopt it by name
  if (sim.faults.chance("createThenFail", sim.config().faults.createThenFail))
    return sendError(res, 500, "Internal server error");
  sendJson(res, 201, toApiPod(pod));
}

function listPods({ res, query, sim }: RouteCall): void {
  const cluster = query.get("includeClusterPods");
  if (cluster !== null && cluster !== "true" && cluster !== "false")
    return sendError(res, 422, "Request validation failed.", {}, ["includeClusterPods: must be a boolean"]);
  const rate = sim.config().faults.omitFromList;
  const pods = sim.pods.store
    .all()
    .filter((pod) => pod.status !== "TERMINATED" && !sim.faults.chance("omitFromList", rate));
  sendJson(res, 200, { pods: pods.map((pod) => toApiPod(pod)) });
}

function getPod(call: RouteCall): void {
  const pod = podOr404(call);
  if (pod !== undefined) sendJson(call.res, 200, toApiPod(pod));
}

async function deletePod(call: RouteCall): Promise<void> {
  const pod = podOr404(call);
  if (pod === undefined) return;
  await call.sim.pods.terminate(pod);
  sendEmpty(call.res, 204);
}

const ACTIONS: readonly PodAction[] = ["start", "stop", "restart", "terminate"];

async function podAction(call: RouteCall): Promise<void> {
  const pod = podOr404(call);
  if (pod === undefined) return;
  const body = await readJson(call.req);
  const errors: string[] = [];
  if (!isRecord(body)) errors.push("body: must be a JSON object");
  else {
    if (!("action" in body)) errors.push("action: is required");
    else if (typeof body.action !== "string" || !(ACTIONS as readonly string[]).includes(body.action))
      errors.push(`action: must be one of ${ACTIONS.join(", ")}`);
    for (const key of Object.keys(body)) if (key !== "action") errors.push(`${key}: unknown field`);
  }
  if (errors.length > 0) return sendError(call.res, 422, "Request validation failed.", {}, errors);
  const action = (body as { action: PodAction }).action;
  await call.sim.pods.act(pod, action);
  if (action === "terminate") return sendEmpty(call.res, 204);
  sendJson(call.res, 200, toApiPod(pod));
}

export const V2_ROUTES: readonly V2Route[] = [
  { method: "POST", template: "/v2/pods", handler: createPod },
  { method: "GET", template: "/v2/pods", handler: listPods },
  { method: "GET", template: "/v2/pods/{id}", handler: getPod, podScoped: true },
  { method: "DELETE", template: "/v2/pods/{id}", handler: deletePod, podScoped: true },
  { method: "POST", template: "/v2/pods/{id}/action", handler: podAction, podScoped: true },
  { method: "GET", template: "/v2/pods/{id}/logs", handler: streamPodLogs, podScoped: true },
  ...CATALOG_ROUTES,
  ...BILLING_ROUTES,
  ...VOLUME_ROUTES,
];

export { ApiError };
