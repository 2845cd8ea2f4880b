import type { CloudType } from "../db";
import type { GpuType } from "../runpod";
import type { GpuCandidate } from "../lifecycle/gpu-candidates";
import type { CacheVolume } from "./directory";

/** A deployment's use of the cache volumes (request field `cache`): prefer them (default), require one, or never. */
export const CACHE_MODES = ["prefer", "require", "off"] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

/** One create the deploy job tries: a GPU type, and with `cache` the cache volume mounted (in its data centre). */
export interface Placement {
  gpuTypeId: string;
  cache?: CacheVolume;
}

export interface CachePlanInput {
  mode: CacheMode;
  cloudType: CloudType;
  /** the user's data centres (empty: any) */
  dataCenterIds: string[];
  /** the GPU types in the order orderCandidates made */
  candidates: readonly GpuCandidate[];
  catalog: readonly GpuType[] | null;
  /** the cache volumes (null: the list could not be read) */
  volumes: readonly CacheVolume[] | null;
  /** volumes a finished run of this model used: its weights are there already */
  warmVolumeIds: ReadonlySet<string>;
}

export interface CachePlan {
  placements: Placement[];
  /** why no placement uses a cache volume (for the events), when none does */
  why?: string;
  /** the deployment's image kept it off the cache volumes (not one of ALLOWED_IMAGES): recorded as an event */
  skipped?: true;
}

/**
 * The creates to try, in order. With a usable cache volume (in one of the user's data centres, Secure Cloud, mode not
 * off): first every GPU type in that volume's data centre with the volume mounted, the volumes where this model is
 * cached first, and within one the types the catalog shows stocked there first; then (mode prefer) every type without
 * the volume, as without a cache. Mode require keeps only the first kind: none at all means no placement. Pure.
 */
export function cachePlan(input: CachePlanInput): CachePlan {
  const plain = input.candidates.map((c) => ({ gpuTypeId: c.gpuTypeId }));
  const keep = (why: string): CachePlan => ({ placements: input.mode === "require" ? [] : plain, why });
  if (input.mode === "off") return { placements: plain, why: "cache: off" };
  if (input.cloudType !== "SECURE") return keep("network volumes are Secure Cloud only");
  if (input.volumes === null) return keep("RunPod's network volume list could not be read");
  const usable = input.volumes
    .filter((v) => input.dataCenterIds.length === 0 || input.dataCenterIds.includes(v.dataCenter))
    .sort((a, b) => Number(input.warmVolumeIds.has(b.id)) - Number(input.warmVolumeIds.has(a.id)));
  if (usable.length === 0)
    return keep(
      input.dataCenterIds.length === 0
        ? "no cache volume"
        : `no cache volume in the deployment's data centres (${input.dataCenterIds.join(", ")})`,
    );
  const byId = new Map((input.catalog ?? []).map((g) => [g.id, g]));
  const stockedIn = (gpuTypeId: string, dc: string): boolean => {
    const level = byId.get(gpuTypeId)?.dataCenters?.find((d) => d.id === dc)?.availability;
    return level !== undefined && level !== "NONE";
  };
  const cached: Placement[] = [];
  for (const volume of usable) {
    const stocked = input.candidates.filter((c) => stockedIn(c.gpuTypeId, volume.dataCenter));
    const rest = input.candidates.filter((c) => !stockedIn(c.gpuTypeId, volume.dataCenter));
    for (const c of [...stocked, ...rest]) cached.push({ gpuTypeId: c.gpuTypeId, cache: volume });
  }
  return { placements: input.mode === "require" ? cached : [...cached, ...plain] };
}
