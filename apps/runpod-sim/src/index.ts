export { createSimServer, type SimServer } from "./server";
export {
  defaultConfig,
  loadConfig,
  type SimConfig,
  type FaultConfig,
  type CapacityConfig,
  type QuotaConfig,
  type RestartPolicy,
  type AvailabilityLevel,
} from "./config";
export { NO_CAPACITY_MESSAGE } from "./pods";
export { parseArgs } from "./args";
