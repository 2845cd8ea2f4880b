/**
 * Network volumes (openapi-v2.json: NetworkVolume, CreateNetworkVolumeRequest, UpdateNetworkVolumeRequest): kept in
 * memory, each with a folder under the sim's data dir that stands in for its storage. A pod that mounts one
 * (`mounts.network: [{volumeId, path}]`) sees that folder: the sim cannot mount at `path`, so the pod's env names it
 * (SIM_NETWORK_VOLUME_DIR), as RUNPOD_VOLUME_MOUNT_PATH names the pod's own workspace. Two pods on one volume share
 * one folder, as RunPod's network storage is shared.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { isRecord } from "./config";
import { dataCenter } from "./data-centers";
import { randomId } from "./pod-store";

export const VOLUME_TYPES = ["STANDARD", "HIGH_PERFORMANCE"] as const;
export type VolumeType = (typeof VOLUME_TYPES)[number];

export interface SimVolume {
  id: string;
  name: string;
  size: number;
  dataCenter: string;
  type: VolumeType;
  /** the folder that stands in for the volume's storage */
  dir: string;
  createdAt: number;
}

/** The size bounds of CreateNetworkVolumeRequest and UpdateNetworkVolumeRequest, in GB. */
export const MIN_VOLUME_GB = 10;
export const MAX_VOLUME_GB = 4096;

export type VolumeAnswer<T> =
  { ok: true; value: T } | { ok: false; status: 400 | 404 | 422; detail: string; errors?: string[] };

const invalid = (errors: string[]): VolumeAnswer<never> => ({
  ok: false,
  status: 422,
  detail: "Request validation failed.",
  errors,
});
const sizeOk = (v: unknown): boolean =>
  typeof v === "number" && Number.isInteger(v) && v >= MIN_VOLUME_GB && v <= MAX_VOLUME_GB;

/** The schema checks both bodies share (additionalProperties false; name and size bounds). */
function checkFields(body: Record<string, unknown>, allowed: readonly string[]): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(body)) if (!allowed.includes(key)) errors.push(`${key}: unknown field`);
  if ("name" in body && (typeof body.name !== "string" || body.name.length < 1))
    errors.push("name: must be a non-empty string");
  if ("size" in body && !sizeOk(body.size))
    errors.push(`size: must be an integer from ${MIN_VOLUME_GB} to ${MAX_VOLUME_GB} (GB)`);
  return errors;
}

export class VolumeStore {
  private readonly volumes = new Map<string, SimVolume>();

  constructor(private readonly dataDir: string) {}

  all(): SimVolume[] {
    return [...this.volumes.values()];
  }

  get(id: string): SimVolume | undefined {
    return this.volumes.get(id);
  }

  /** POST /v2/network-volumes: 422 for a schema break, 400 for an unknown data centre. */
  create(body: unknown): VolumeAnswer<SimVolume> {
    if (!isRecord(body)) return invalid(["body: must be a JSON object"]);
    const errors = checkFields(body, ["name", "size", "dataCenter", "type"]);
    for (const key of ["name", "size", "dataCenter"]) if (!(key in body)) errors.push(`${key}: is required`);
    if ("dataCenter" in body && (typeof body.dataCenter !== "string" || body.dataCenter.length < 1))
      errors.push("dataCenter: must be a non-empty string");
    if ("type" in body && !(VOLUME_TYPES as readonly unknown[]).includes(body.type))
      errors.push(`type: must be one of ${VOLUME_TYPES.join(", ")}`);
    if (errors.length > 0) return invalid(errors);
    const dc = body.dataCenter as string;
    if (dataCenter(dc) === undefined)
      return { ok: false, status: 400, detail: `data center ${dc} does not exist or offers no network storage` };
    let id = randomId(10);
    while (this.volumes.has(id)) id = randomId(10);
    const dir = path.join(this.dataDir, "volumes", id);
    mkdirSync(dir, { recursive: true });
    const volume: SimVolume = {
      id,
      name: body.name as string,
      size: body.size as number,
      dataCenter: dc,
      type: (body.type as VolumeType | undefined) ?? "STANDARD",
      dir,
      createdAt: Date.now(),
    };
    this.volumes.set(id, volume);
    return { ok: true, value: volume };
  }

  /** PATCH /v2/network-volumes/{id}: name and size only, at least one; a smaller size is a 400. */
  update(id: string, body: unknown): VolumeAnswer<SimVolume> {
    const volume = this.volumes.get(id);
    if (volume === undefined) return { ok: false, status: 404, detail: `network volume ${id} not found` };
    if (!isRecord(body)) return invalid(["body: must be a JSON object"]);
    const errors = checkFields(body, ["name", "size"]);
    if (Object.keys(body).length === 0) errors.push("body: must have at least 1 property");
    if (errors.length > 0) return invalid(errors);
    if (typeof body.size === "number" && body.size < volume.size)
      return {
        ok: false,
        status: 400,
        detail: `size may only grow: the volume has ${volume.size} GB, ${body.size} GB asked`,
      };
    if (typeof body.name === "string") volume.name = body.name;
    if (typeof body.size === "number") volume.size = body.size;
    return { ok: true, value: volume };
  }

  /** DELETE: gone with its files; refused (400) while a live pod mounts it. */
  remove(id: string, mountedBy: string[]): VolumeAnswer<null> {
    const volume = this.volumes.get(id);
    if (volume === undefined) return { ok: false, status: 404, detail: `network volume ${id} not found` };
    if (mountedBy.length > 0)
      return { ok: false, status: 400, detail: `network volume ${id} is mounted by pod(s) ${mountedBy.join(", ")}` };
    this.volumes.delete(id);
    rmSync(volume.dir, { recursive: true, force: true });
    return { ok: true, value: null };
  }

  /** /admin/reset: every volume and its files. */
  clear(): void {
    this.volumes.clear();
    rmSync(path.join(this.dataDir, "volumes"), { recursive: true, force: true });
  }
}

/** openapi-v2.json's NetworkVolume. */
export function toApiVolume(v: SimVolume): Record<string, unknown> {
  return { id: v.id, name: v.name, size: v.size, dataCenter: v.dataCenter, type: v.type };
}
