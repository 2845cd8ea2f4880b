import type { Redis } from "ioredis";
import type { Config } from "../config";
import type { Logger } from "../logging/logger";
import type { NetworkVolumeClient } from "../runpod/network-volumes";
import type { CacheDeps } from "./deploy-cache";
import { CacheVolumeDirectory } from "./directory";
import { spendSettingsFromEnv } from "../spend/settings";

/** The cache volumes of this configuration (CACHE_* settings), over RunPod's volume calls. */
export function cacheDepsFor(
  config: Pick<Config, "env">,
  volumes: NetworkVolumeClient,
  redis?: Redis,
  logger?: Logger,
): CacheDeps {
  const env = config.env;
  return {
    directory: new CacheVolumeDirectory({
      volumes,
      namePrefix: env.CACHE_VOLUME_NAME_PREFIX,
      redis,
      prefix: env.QUEUE_PREFIX,
      ttlSeconds: env.CACHE_VOLUMES_TTL_SECONDS,
      logger,
    }),
    mount: {
      mountPath: env.CACHE_VOLUME_MOUNT_PATH,
      maxFillPercent: env.CACHE_MAX_FILL_PERCENT,
      trustedImages: spendSettingsFromEnv(env).allowedImages,
    },
  };
}
