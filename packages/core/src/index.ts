// The public surface of @trainpod/core: each module's index.ts names what it offers; this file names them again.

// configuration from the environment
export {
  loadConfig, loadConfigOrExit, SIMULATOR_API_KEY, type Config, type RunPodTarget, adminSessionEnvSchema, apiEnvSchema, coreEnvSchema,
  envSchema, runpodEnvSchema, spendEnvSchema, storageEnvSchema, tokenEnvSchema, workerEnvSchema, type Env
} from "./config";
// Prisma and the schema's types
export {
  createPrismaClient, pingDatabase, Prisma, PrismaClient, withTimeout, type PrismaOptions, type ApiKey, type Artifact, type ArtifactStatus,
  type BudgetAction, type CloudType, type Dataset, type DatasetDownloadToken, type Deployment, type DeploymentEvent, type DeploymentStatus,
  type FailureReason, type RunToken, type User, type UserLimits, type UserRole, waitForDatabase, type WaitForDatabaseOptions
} from "./db";
// AppError and its codes
export {
  AppError, ERROR_CODES, isAppError, type AppErrorOptions, type ErrorCode
} from "./errors";
// logger and redaction
export {
  createLogger, type LogFormat, type Logger, type LoggerOptions, isSecretKey, redact, REDACTED, redactText
} from "./logging";
// the injectable clock
export {
  ManualClock, systemClock, type Clock
} from "./time/clock";
// Redis and BullMQ queues
export {
  createRedis, type Redis, closeQueues, createQueues, type Queues
} from "./queue";
// job names, payloads, the enqueuer
export {
  JOB_NAMES, jobCatalog, jobIds, jobPayloadSchemas, parseJobPayload, type JobDefinition, type JobInput, type JobName, type JobPayload,
  createJobEnqueuer, DEFAULT_BILLING_TIMING, type BillingTiming, type EnqueueOptions, type JobEnqueuer
} from "./jobs";
// RunPod's REST API v2: client, rate budget, errors, schemas
export {
  classifyFetchFailure, classifyHttpError, extractRunPodMessage, readProblem, scrubSecret, type FailedCall, type Problem,
  type GpuCatalogQuery, type ListPodsFilter, type PodBillingQuery, type PodLogQuery, type RecentLogsOptions, type RunPodClient,
  type TerminateResult, BadRequestError, BadResponseError, ConflictError, ContractViolationError, ForbiddenError, InsufficientBalanceError,
  NoCapacityError, NotFoundError, RateLimitedError, RunPodUnavailableError, UnauthorizedError, type RunPodError, type UnavailableReason,
  unlimitedBudget, type CallBudget, type CallPriority, type HttpMethod, type QuotaAnswer, type RunPodCallInfo, formatLogLine,
  untilBackfillOver, RunPodRestClient, type RunPodRestClientOptions, backoffDelayMs, defaultSleep, MAX_RETRY_AFTER_MS, parseRetryAfter,
  retryDelayMs, type BackoffOptions, type RetryDecisionInput, AVAILABILITY_LEVELS, CLOUDS, costPerHrToMicros, CreatePodRequestSchema,
  GpuTypeListSchema, GpuTypeSchema, POD_STATUSES, PodBillingListSchema, PodBillingRecordSchema, PodListSchema, PodLogLineSchema, PodSchema,
  PodStatusSchema, usdToMicrosExact, type Availability, type CreatePodRequest, type GpuType, type Pod, type PodBillingRecord,
  type PodLogLine, type PodStatus, RUNPOD_API_V2_URL, GpuCatalogCache, type GpuCatalogCacheOptions, accountIdOf, LocalRateBudget,
  rateBudgetKey, RedisRateBudget, type RedisRateBudgetOptions, runpodClientForProcess, type ProcessRunPodClientOptions, parseRateLimit,
  parseRateLimitPolicy, type RateLimitPolicyWindow, type RateLimitWindow, abortableSleep, type RateBudget, type RateBudgetOptions,
  DEFAULT_BUDGET_RULES, type BudgetRules, type BudgetState, type WindowState
} from "./runpod";
// API keys and screen access
export {
  API_KEY_DISPLAY_PREFIX_LENGTH, API_KEY_PREFIX, authenticateApiKey, createApiKey, createUserWithKey, LAST_USED_RESOLUTION_MS,
  revokeApiKey, type Authenticated, type CreatedApiKey, type CreatedUser, hasSecretShape, newSecret, sameDigest, SECRET_BYTES, sha256Hex,
  ApiKeyCache, type ApiKeyCacheOptions, assertScreenAccess, canActOnScreens
} from "./auth";
// blob storage (S3, local files)
export {
  type BlobObject, type BlobStat, type BlobStorage, type DirectTransfer, type GetOptions, type PresignedRequest, type PresignOptions,
  type PutOptions, type PutResult, type UploadedPart, assertSafeKey, LocalFileStorage, MeterStream, S3BlobStorage,
  type S3BlobStorageOptions, createS3Client, fromS3Error, isS3NotFound, s3ErrorName, type S3Connection, createBlobStorage
} from "./storage";
// dataset upload, validation, queries
export {
  checkLine, type DatasetFormat, type LineVerdict, JsonlChecker, JsonlValidatorStream, MAX_BAD_LINES, MAX_LINE_BYTES, type BadLine,
  type JsonlSummary, datasetListQuerySchema, datasetView, getOwnDataset, listDatasets, type DatasetView, checkDatasetName, uploadDataset,
  type UploadDeps, type UploadInput, deleteOwnDataset
} from "./datasets";
// the deployment model
export {
  DEPLOYMENT_STATUSES, LIVE_STATUSES, TERMINAL_STATUSES, isTerminal, recordEvent, transition, updateWithEvent, type TransitionInput,
  DEFAULT_IMAGE, deploymentRequestSchema, type DeploymentRequest, assertHyperparameters, hyperparametersSchema, type Hyperparameters,
  assertPreflight, preflight, type PreflightCode, type PreflightContext, type PreflightProblem, billedSeconds, costForSeconds, podCost,
  deploymentView, eventView, lastLines, deploymentEvents, getOwnDeployment, listDeployments, listQuerySchema, adminListQuerySchema,
  findDeployment, listAllDeployments
} from "./deployment";
// money, GPU prices, estimates
export {
  microsToUsd, usdToMicros, catalogPriceList, tablePriceList, type GpuPriceList, estimateCost, estimateRequestSchema, type CostEstimate,
  type EstimateRequest
} from "./pricing";
// the timeline stream (SSE)
export {
  TimelineHub, type TimelineHubOptions, type TimelineListener, parseLastEventId, timelineComplete, StreamSlots, type StreamLimits
} from "./timeline";
// tokens, pod URLs, start script
export {
  podLauncher, type PodLauncher, type PodLauncherDeps, loadTrainerSource, podLaunch, type LaunchInput, type PodLaunchSpec,
  type SelfTerminateSettings, datasetDownloadUrl, podUrls, type PodUrls, mintDatasetToken, mintRunToken, type MintedDatasetToken,
  type MintedRunToken, revokeDeploymentTokens, verifyRunToken, type RevokedTokens, claimDatasetToken, markDatasetTokenUsed,
  releaseDatasetToken, type DatasetClaim, cleanupExpiredTokens, type CleanupResult, type TokenDeps
} from "./pod-launch";
// the deployment's use cases
export {
  type LifecycleDeps, type PodLaunch, type PodTerminatedInfo, submitDeployment, type SubmitInput, type SubmitResult, cancelDeployment,
  retryDeployment, deployDeployment, type DeployOutcome, type RefusedCandidate, failDeployment, failureDataOf, failureReasonOf,
  recordRunEvent, runEventSchema, type RunEvent, type RunEventDeps, monitorTick, type MonitorResult, type MonitorSettings, reconcile,
  type ReconcileResult, terminateDeployment, type TerminateOutcome, billPod, type BillingOutcome, type BillingSettings
} from "./lifecycle";
// budgets and per-user limits
export {
  imageAllowed, spendSettingsFromEnv, type EffectiveLimits, type OnExceed, type SpendSettings, effectiveLimits, effectiveLimitsOf,
  setUserLimits, userLimitsInputSchema, type UserLimitsInput, monthStart, userSpend, withUserLock, type UserSpend, assertBudgetAllows,
  overBudget, type BudgetFigures, claimStart, oldestWaiting, type StartDecision, liveDeploymentsOverBudget, type OverBudget, ownSpend,
  spendReport, type UserSpendView
} from "./spend";
// a run's files
export {
  artifactPath, artifactStorageKey, type ArtifactDeps, type ArtifactFile, type ArtifactLimits, type UploadMode, type UploadPlan,
  artifactDeclarationSchema, reserveArtifact, type ArtifactDeclaration, artifactUploadUrl, completeArtifact, completeRequestSchema,
  storeArtifactThroughApi, uploadUrlRequestSchema, artifactView, listArtifacts, storedArtifact, type ArtifactListView, type ArtifactView,
  deleteArtifacts, sweepAbandonedUploads, sweepArtifactRetention, type ArtifactDeletion, type DeletedArtifacts, confineToDeploymentFolders
} from "./artifacts";
// statistics
export {
  MAX_STATS_WINDOW_DAYS, parseStatsQuery, statsQuerySchema, type StatsWindow, statsReport, successRate, type StatsReport
} from "./stats";
// Prometheus metrics
export {
  observeWorkerOutcomes, registerDeploymentGauges, registerQueueDepth, createMetrics, monitorObserver, podTerminatedObserver,
  reconcileObserver, runpodCallObserver, type Metrics, hasMetricsToken
} from "./metrics";
