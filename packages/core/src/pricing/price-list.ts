import type { CloudType } from "../db";
import { usdToMicrosExact, type GpuType } from "../runpod";
import { gpuHourlyPriceMicros } from "./gpu-prices";

/** Per-GPU list prices for estimates and pre-flight: RunPod's catalog when it can be read, else the table. */
export interface GpuPriceList {
  /** where the prices come from (shown in estimates) */
  source: string;
  /** micro-dollars per hour for one GPU of this type in this cloud; null for a type it does not know */
  perGpuMicros(gpuTypeId: string, cloud: CloudType): bigint | null;
  /** each GPU type's memory as the catalog states it (the memory pre-flight's); absent for the offline table */
  gpus?: ReadonlyArray<{ gpuTypeId: string; memoryGb: number }>;
}

/** The hand-kept table (gpu-prices.ts): the offline fallback when RunPod's catalog cannot be read. */
export const tablePriceList: GpuPriceList = {
  source: "trainpod's price table (offline fallback: RunPod's catalog could not be read)",
  perGpuMicros: gpuHourlyPriceMicros,
};

/** built once per catalog answer (a cached catalog is the same array until it is read again) */
const built = new WeakMap<readonly GpuType[], GpuPriceList>();

/**
 * RunPod's own list prices (GET /v2/catalog/gpus): what estimates and pre-flight use when they can. The same
 * catalog answer gives the same list (every submission asks: it is built once, not per request).
 */
export function catalogPriceList(gpus: readonly GpuType[]): GpuPriceList {
  const known = built.get(gpus);
  if (known !== undefined) return known;
  const list = buildPriceList(gpus);
  built.set(gpus, list);
  return list;
}

function buildPriceList(gpus: readonly GpuType[]): GpuPriceList {
  // each price converted once (a submission asks for every GPU type it names, twice)
  const byId = new Map(
    gpus.map((g) => [
      g.id,
      { community: usdToMicrosExact(g.price.community), secure: usdToMicrosExact(g.price.secure) },
    ]),
  );
  return {
    source: "RunPod catalog (GET /v2/catalog/gpus), list price per GPU",
    gpus: gpus.map((g) => ({ gpuTypeId: g.id, memoryGb: g.memory ?? 0 })),
    perGpuMicros(gpuTypeId, cloud) {
      const g = byId.get(gpuTypeId);
      if (g === undefined) return null;
      return cloud === "COMMUNITY" ? g.community : g.secure;
    },
  };
}
