import type { CacheVolume } from "./directory";

/** How a pod uses a cache volume: where it is mounted, and how full its models may make it. */
export interface CacheMountSettings {
  /** CACHE_VOLUME_MOUNT_PATH */
  mountPath: string;
  /** CACHE_MAX_FILL_PERCENT */
  maxFillPercent: number;
}

/** v2's `mounts` for a pod on the cache volume: the network volume alone (never beside a persistent one). */
export function cacheMounts(volume: CacheVolume, s: CacheMountSettings) {
  return { network: [{ volumeId: volume.id, path: s.mountPath }] };
}

/**
 * The pod's env for its cache (read by the agent's cache.py): where the volume is, and the bytes its models may take
 * before the least recently used are evicted.
 */
export function cacheEnv(volume: CacheVolume, s: CacheMountSettings): Record<string, string> {
  const maxBytes = (BigInt(volume.sizeGb) * 1_000_000_000n * BigInt(s.maxFillPercent)) / 100n;
  return {
    TRAINPOD_CACHE_DIR: s.mountPath,
    TRAINPOD_CACHE_VOLUME_ID: volume.id,
    TRAINPOD_CACHE_MAX_BYTES: maxBytes.toString(),
  };
}
