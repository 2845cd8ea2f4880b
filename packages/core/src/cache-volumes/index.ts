export { CacheVolumeDirectory, type CacheVolume, type CacheVolumeDirectoryOptions } from "./directory";
export {
  CACHE_MODES,
  cachePlan,
  type CacheMode,
  type CachePlan,
  type CachePlanInput,
  type Placement,
} from "./placement";
export { cacheEnv, cacheMounts, type CacheMountSettings } from "./pod-mount";
export {
  cacheCreateFields,
  cacheModeOf,
  placementsFor,
  recordCacheUse,
  type CacheDeps,
} from "./deploy-cache";
export { cacheVolumeSpend, volumeMonthMicros } from "./cost";
export { cacheDepsFor } from "./from-config";
