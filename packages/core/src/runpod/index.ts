export {
  classifyFetchFailure,
  classifyHttpError,
  extractRunPodMessage,
  readProblem,
  scrubSecret,
  type FailedCall,
  type Problem,
} from "./classify";
export {
  type GpuCatalogQuery,
  type ListPodsFilter,
  type PodBillingQuery,
  type PodLogQuery,
  type RecentLogsOptions,
  type RunPodClient,
  type TerminateResult,
} from "./client";
export {
  BadRequestError,
  BadResponseError,
  ConflictError,
  ContractViolationError,
  ForbiddenError,
  InsufficientBalanceError,
  NoCapacityError,
  NotFoundError,
  RateLimitedError,
  RunPodUnavailableError,
  UnauthorizedError,
  type RunPodError,
  type UnavailableReason,
} from "./errors";
export {
  unlimitedBudget,
  type CallBudget,
  type CallPriority,
  type HttpMethod,
  type QuotaAnswer,
  type RunPodCallInfo,
} from "./http";
export { formatLogLine, untilBackfillOver } from "./pod-logs";
export { RunPodRestClient, type RunPodRestClientOptions } from "./rest-client";
export {
  backoffDelayMs,
  defaultSleep,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryDelayMs,
  type BackoffOptions,
  type RetryDecisionInput,
} from "./backoff";
export {
  AVAILABILITY_LEVELS,
  CLOUDS,
  costPerHrToMicros,
  CreatePodRequestSchema,
  GpuTypeListSchema,
  GpuTypeSchema,
  POD_STATUSES,
  PodBillingListSchema,
  PodBillingRecordSchema,
  PodListSchema,
  PodLogLineSchema,
  PodSchema,
  PodStatusSchema,
  UNKNOWN_POD_STATUS,
  usdToMicrosExact,
  type Availability,
  type CreatePodRequest,
  type GpuType,
  type Pod,
  type PodBillingRecord,
  type PodLogLine,
  type PodStatus,
} from "./schemas";
export { RUNPOD_API_V2_URL } from "./api-url";
export {
  CreateNetworkVolumeRequestSchema,
  NetworkVolumeSchema,
  RunPodNetworkVolumes,
  type CreateNetworkVolumeRequest,
  type NetworkVolume,
  type NetworkVolumeClient,
} from "./network-volumes";
export { MAX_POD_PAGES, type SkippedPod } from "./pod-list";
export { GpuCatalogCache, type GpuCatalogCacheOptions } from "./gpu-catalog-cache";
export {
  accountIdOf,
  LocalRateBudget,
  rateBudgetKey,
  RedisRateBudget,
  type RedisRateBudgetOptions,
} from "./rate-budget";
export { runpodClientForProcess, type ProcessRunPodClientOptions } from "./client-for-config";
export {
  parseRateLimit,
  parseRateLimitPolicy,
  type RateLimitPolicyWindow,
  type RateLimitWindow,
} from "./rate-budget-headers";
export { abortableSleep, type RateBudget, type RateBudgetOptions } from "./rate-budget-polling";
export { DEFAULT_BUDGET_RULES, type BudgetRules, type BudgetState, type WindowState } from "./rate-budget-state";
