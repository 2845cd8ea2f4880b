export { createSimServer, type SimServer } from "./server";
export { defaultConfig, loadConfig, type SimConfig, type FaultConfig, type CapacityConfig, type RestartPolicy } from "./config";
export { NO_CAPACITY_MESSAGE } from "./pods";
