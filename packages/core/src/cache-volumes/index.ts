export { CacheVolumeDirectory, type CacheVolume, type CacheVolumeDirectoryOptions } from "./directory";
export {
  CACHE_MODES,
  cachePlan,
  type CacheMode,
  type CachePlan,
  type CachePlanInput,
  type Placement,
} from "./placement";
export { cacheEnv, cacheMounts, cacheUserKey, type CacheMountSettings, type CacheScope } from "./pod-mount";
export {
  cacheCreateFields,
  cacheModeOf,
  droppedVolumeGb,
  placementsFor,
  recordCacheUse,
  type CacheDeps,
} from "./deploy-cache";
export { cacheVolumeSpend, volumeMonthMicros } from "./cost";
export { cacheDepsFor } from "./from-config";
