/** /v2/network-volumes (list, create) and /v2/network-volumes/{id} (get, update, delete), per openapi-v2.json. */
import { readJson, sendEmpty, sendError, sendJson } from "./http-util";
import type { RouteCall, V2Route } from "./routes";
import { toApiVolume, type VolumeAnswer } from "./volumes";

function answer<T>(call: RouteCall, result: VolumeAnswer<T>, ok: (value: T) => void): void {
  if (result.ok) return ok(result.value);
  sendError(call.res, result.status, result.detail, {}, result.errors);
}

function listVolumes({ res, sim }: RouteCall): void {
  sendJson(res, 200, { networkVolumes: sim.pods.volumes.all().map(toApiVolume) });
}

async function createVolume(call: RouteCall): Promise<void> {
  const result = call.sim.pods.volumes.create(await readJson(call.req));
  answer(call, result, (v) => sendJson(call.res, 201, toApiVolume(v)));
}

function getVolume(call: RouteCall): void {
  const volume = call.sim.pods.volumes.get(call.params.id ?? "");
  if (volume === undefined) return sendError(call.res, 404, `network volume ${call.params.id ?? ""} not found`);
  sendJson(call.res, 200, toApiVolume(volume));
}

async function updateVolume(call: RouteCall): Promise<void> {
  const result = call.sim.pods.volumes.update(call.params.id ?? "", await readJson(call.req));
  answer(call, result, (v) => sendJson(call.res, 200, toApiVolume(v)));
}

function deleteVolume(call: RouteCall): void {
  const id = call.params.id ?? "";
  const mountedBy = call.sim.pods.store
    .all()
    .filter((p) => p.status !== "TERMINATED" && p.input.mounts.network?.some((m) => m.volumeId === id))
    .map((p) => p.id);
  answer(call, call.sim.pods.volumes.remove(id, mountedBy), () => sendEmpty(call.res, 204));
}

export const VOLUME_ROUTES: readonly V2Route[] = [
  { method: "GET", template: "/v2/network-volumes", handler: listVolumes },
  { method: "POST", template: "/v2/network-volumes", handler: createVolume },
  { method: "GET", template: "/v2/network-volumes/{id}", handler: getVolume },
  { method: "PATCH", template: "/v2/network-volumes/{id}", handler: updateVolume },
  { method: "DELETE", template: "/v2/network-volumes/{id}", handler: deleteVolume },
];
