/** RunPod REST v1 (base /v1): pods and pod billing, answered like https://rest.runpod.io/v1. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BUCKET_SIZES, billingRecords, type BillingQuery, type BucketSize } from "./billing";
import type { SimConfig } from "./config";
import type { FaultInjector } from "./faults";
import { readJson, sendEmpty, sendError, sendJson, type Params, type Route } from "./http-util";
import { parsePodInput } from "./pod-input";
import type { SimPod } from "./pod-store";
import { toApiPod } from "./pod-view";
import type { PodManager } from "./pods";
import type { CallStats } from "./stats";

export interface SimContext {
  pods: PodManager;
  config(): SimConfig;
  setConfig(next: SimConfig): void;
  faults: FaultInjector;
  stats: CallStats;
}

export interface RouteCall {
  req: IncomingMessage;
  res: ServerResponse;
  params: Params;
  query: URLSearchParams;
  sim: SimContext;
}

export type Handler = (call: RouteCall) => Promise<void> | void;

const truthy = (query: URLSearchParams, name: string): boolean => query.get(name) === "true";
/** an array filter: repeated (?gpuTypeId=a&gpuTypeId=b) or comma-separated */
const many = (query: URLSearchParams, name: string): string[] => query.getAll(name).flatMap((v) => v.split(",")).filter((v) => v !== "");

function podOr400(call: RouteCall): SimPod | undefined {
  const pod = call.sim.pods.store.visible(call.params.podId ?? "");
  // openapi-v1.json lists 400 "Invalid Pod ID" (no 404) for stop/start/DELETE
  if (pod === undefined) sendError(call.res, 400, `invalid pod id: pod ${call.params.podId ?? ""} not found`);
  return pod;
}

async function createPod({ req, res, sim }: RouteCall): Promise<void> {
  const parsed = parsePodInput(await readJson(req));
  if (!parsed.ok) return sendError(res, 400, `invalid request body: ${parsed.problems.join("; ")}`);
  sendJson(res, 201, toApiPod(sim.pods.create(parsed.input)));
}

function listPods({ res, query, sim }: RouteCall): void {
  const desired = query.get("desiredStatus");
  if (desired !== null && !["RUNNING", "EXITED", "TERMINATED"].includes(desired)) return sendError(res, 400, "desiredStatus must be RUNNING, EXITED or TERMINATED");
  const compute = query.get("computeType");
  if (compute !== null && compute !== "GPU" && compute !== "CPU") return sendError(res, 400, "computeType must be GPU or CPU");
  const gpuTypeIds = many(query, "gpuTypeId");
  const dataCenterIds = many(query, "dataCenterId");
  const exact: Array<[string, (pod: SimPod) => string | undefined]> = [
    ["id", (p) => p.id],
    ["name", (p) => p.input.name],
    ["imageName", (p) => p.input.imageName],
    ["templateId", (p) => p.input.templateId],
    ["networkVolumeId", (p) => p.input.networkVolumeId],
    ["endpointId", () => undefined],
  ];
  const pods = sim.pods.store.all().filter(
    (pod) =>
      pod.desiredStatus !== "TERMINATED" &&
      (desired === null || pod.desiredStatus === desired) &&
      (compute === null || pod.input.computeType === compute) &&
      (gpuTypeIds.length === 0 || (pod.gpu !== undefined && gpuTypeIds.includes(pod.gpu.id))) &&
      (dataCenterIds.length === 0 || dataCenterIds.includes(pod.dataCenterId)) &&
      exact.every(([name, get]) => !query.has(name) || get(pod) === query.get(name)),
  );
  sendJson(res, 200, pods.map((pod) => toApiPod(pod, truthy(query, "includeMachine"))));
}

function getPod({ res, params, query, sim }: RouteCall): void {
  const pod = sim.pods.store.visible(params.podId ?? "");
  if (pod === undefined) return sendError(res, 404, `pod not found: ${params.podId ?? ""}`);
  sendJson(res, 200, toApiPod(pod, truthy(query, "includeMachine")));
}

async function stopPod(call: RouteCall): Promise<void> {
  const pod = podOr400(call);
  if (pod === undefined) return;
  await call.sim.pods.stop(pod);
  sendJson(call.res, 200, toApiPod(pod));
}

function startPod(call: RouteCall): void {
  const pod = podOr400(call);
  if (pod === undefined) return;
  call.sim.pods.start(pod);
  sendJson(call.res, 200, toApiPod(pod));
}

async function deletePod(call: RouteCall): Promise<void> {
  const pod = podOr400(call);
  if (pod === undefined) return;
  await call.sim.pods.terminate(pod);
  sendEmpty(call.res, 204);
}

function time(query: URLSearchParams, name: string, fallback: number): number | string {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? `${name} must be an RFC 3339 date-time` : t;
}

function podBilling({ res, query, sim }: RouteCall): void {
  const now = Date.now();
  const bucketSize = query.get("bucketSize") ?? "day";
  if (!BUCKET_SIZES.includes(bucketSize as BucketSize)) return sendError(res, 400, `bucketSize must be one of ${BUCKET_SIZES.join(", ")}`);
  const grouping = query.get("grouping") ?? "gpuTypeId";
  if (grouping !== "podId" && grouping !== "gpuTypeId") return sendError(res, 400, "grouping must be podId or gpuTypeId");
  const endTime = time(query, "endTime", now);
  const startTime = time(query, "startTime", (typeof endTime === "number" ? endTime : now) - 30 * 86_400_000);
  if (typeof endTime === "string") return sendError(res, 400, endTime);
  if (typeof startTime === "string") return sendError(res, 400, startTime);
  const q: BillingQuery = { bucketSize: bucketSize as BucketSize, grouping, startTime, endTime, podId: query.get("podId") ?? undefined, gpuTypeId: query.get("gpuTypeId") ?? undefined };
  const pods = sim.pods.store.all().map((p) => ({ id: p.id, gpuTypeId: p.gpu?.id ?? null, volumeInGb: p.input.volumeInGb, meter: p.meter }));
  sendJson(res, 200, billingRecords(pods, q, now));
}

export const V1_ROUTES: readonly Route<Handler>[] = [
  { method: "POST", template: "/pods", handler: createPod },
  { method: "GET", template: "/pods", handler: listPods },
  { method: "GET", template: "/pods/{podId}", handler: getPod },
  { method: "DELETE", template: "/pods/{podId}", handler: deletePod },
  { method: "POST", template: "/pods/{podId}/stop", handler: stopPod },
  { method: "POST", template: "/pods/{podId}/start", handler: startPod },
  { method: "GET", template: "/billing/pods", handler: podBilling },
];
