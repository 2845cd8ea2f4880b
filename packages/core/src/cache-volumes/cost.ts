import { microsToUsd, usdToMicros } from "../pricing/money";
import type { CacheVolume } from "./directory";

/** A cache volume's price: RunPod bills network storage per GB-month, whether or not a pod uses it. */
export function volumeMonthMicros(sizeGb: number, usdPerGbMonth: string): bigint {
  return BigInt(sizeGb) * usdToMicros(usdPerGbMonth);
}

/** The cache volumes' cost for the spend report: each volume's month, and all of them. */
export function cacheVolumeSpend(volumes: readonly CacheVolume[], usdPerGbMonth: string) {
  const items = volumes.map((v) => ({
    id: v.id,
    name: v.name,
    dataCenter: v.dataCenter,
    sizeGb: v.sizeGb,
    type: v.type,
    monthUsd: microsToUsd(volumeMonthMicros(v.sizeGb, usdPerGbMonth)),
  }));
  const total = volumes.reduce((sum, v) => sum + volumeMonthMicros(v.sizeGb, usdPerGbMonth), 0n);
  return { usdPerGbMonth, items, monthUsd: microsToUsd(total) };
}
