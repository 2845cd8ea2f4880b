export {
  JOB_NAMES,
  jobCatalog,
  jobIds,
  jobPayloadSchemas,
  parseJobPayload,
  type JobDefinition,
  type JobInput,
  type JobName,
  type JobPayload,
} from "./catalog";
export {
  createJobEnqueuer,
  DEFAULT_BILLING_TIMING,
  type BillingTiming,
  type EnqueueOptions,
  type JobEnqueuer,
} from "./enqueuer";
