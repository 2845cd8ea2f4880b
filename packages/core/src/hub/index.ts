export { CachedHub, tokenScope, type Hub } from "./hub-cache";
export { DEFAULT_HF_ENDPOINT, HubClient, parseModelInfo, type HubClientOptions, type HubModelInfo } from "./hub-client";
export { classifyHubAnswer, HubError, type HubFailureKind } from "./hub-error";
export { hubEndpointFor, hubForConfig } from "./hub-from-config";
export { hubTokenFromSecrets } from "./hub-token";
export { fitGpuTypes, gpuMemories, hasBf16, type GpuFitReport, type GpuMemory } from "./gpu-fit";
export {
  estimateMemory,
  gib,
  GIB,
  loraParameters,
  NF4_BYTES_PER_WEIGHT,
  TRAINER_DEFAULTS,
  type MemoryEstimate,
  type MemoryEstimateInput,
  type Quantization,
} from "./memory-estimate";
export { accessProblem, checkModelAccess, type AccessAnswer, type ModelFacts, type ModelProblem } from "./model-access";
export {
  checkMemory,
  checkModel,
  HF_TOKEN_SECRET,
  submittedEvent,
  uncheckedModel,
  type GpuCatalogView,
  type ModelCheck,
  type ModelPreflightDeps,
} from "./model-preflight";
export { linearModules, linearParameters, modelShape, shapeParameters, type ModelShape } from "./model-shape";
export { TtlLru, type TtlLruOptions } from "./ttl-lru";
