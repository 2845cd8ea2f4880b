import { createHash } from "node:crypto";
import type { CacheVolume } from "./directory";

/** How a pod uses a cache volume: where it is mounted, and how full its models may make it. */
export interface CacheMountSettings {
  /** CACHE_VOLUME_MOUNT_PATH */
  mountPath: string;
  /** CACHE_MAX_FILL_PERCENT */
  maxFillPercent: number;
  /**
   * ALLOWED_IMAGES, the operator's patterns (never a user's extraImages): only a pod of such an image mounts the
   * volume, since a pod's image is the code that can write the shared venv every later run's trainer executes
   */
  trustedImages: readonly string[];
}

/** v2's `mounts` for a pod on the cache volume: the network volume alone (never beside a persistent one). */
export function cacheMounts(volume: CacheVolume, s: CacheMountSettings) {
  return { network: [{ volumeId: volume.id, path: s.mountPath }] };
}

/** Whose cached model weights a run may read and fill (the agent's HF_HOME on the volume, cache.py). */
export interface CacheScope {
  userId: string;
  /** the hub said at submission that the model is public and ungated (Deployment.modelShareable) */
  modelShareable: boolean;
}

/** The per-user folder's name on the volume: `users/<this>/hf` (no user id on the pod or in its paths). */
export function cacheUserKey(userId: string): string {
  return createHash("sha256").update(userId).digest("hex").slice(0, 16);
}

/**
 * The pod's env for its cache (read by the agent's cache.py): where the volume is, the bytes its models may take
 * before the least recently used are evicted, and the model cache's scope: `shared` (`<vol>/hf`) only for a public,
 * ungated model; else `user` (`<vol>/users/<TRAINPOD_CACHE_USER>/hf`), so no user's gated or private weights, cached
 * by huggingface_hub, ever serve another user's run (it serves cached files when the hub refuses a token).
 */
export function cacheEnv(volume: CacheVolume, s: CacheMountSettings, scope: CacheScope): Record<string, string> {
  const maxBytes = (BigInt(volume.sizeGb) * 1_000_000_000n * BigInt(s.maxFillPercent)) / 100n;
  return {
    TRAINPOD_CACHE_DIR: s.mountPath,
    TRAINPOD_CACHE_VOLUME_ID: volume.id,
    TRAINPOD_CACHE_MAX_BYTES: maxBytes.toString(),
    TRAINPOD_CACHE_SCOPE: scope.modelShareable ? "shared" : "user",
    TRAINPOD_CACHE_USER: cacheUserKey(scope.userId),
  };
}
