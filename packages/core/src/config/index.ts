export { loadConfig, loadConfigOrExit, SIMULATOR_API_KEY, type Config, type RunPodTarget } from "./config";
export {
  adminSessionEnvSchema,
  apiEnvSchema,
  coreEnvSchema,
  envSchema,
  hubEnvSchema,
  runpodEnvSchema,
  secretsEnvSchema,
  spendEnvSchema,
  storageEnvSchema,
  tokenEnvSchema,
  workerEnvSchema,
  type Env,
} from "./schema";
export {
  checkServices,
  postgresMissingMessage,
  redisMissingMessage,
  ServiceUnavailableError,
  urlForMessage,
  type CheckServicesOptions,
} from "./check-services";
