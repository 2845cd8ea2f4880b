import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = z.string().url();
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

/** Each concern's variables, parsed from process.env. Defaults give a working local setup on the simulator. */
export const coreEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["error", "warn", "info", "http", "verbose", "debug", "silly"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  DATABASE_URL: url.default("postgresql://postgres@127.0.0.1:5432/trainpod"),
  REDIS_URL: url.default("redis://127.0.0.1:6379"),
  QUEUE_PREFIX: z
    .string()
    .regex(
      /^\{[A-Za-z0-9:_-]+\}$/,
      "must be a Redis hash tag like {trainpod}, so every key of a queue lands in one Cluster slot",
    )
    .default("{trainpod}"),
});

export const runpodEnvSchema = z.object({
  RUNPOD_API_KEY: z.preprocess((v) => (v === "" ? undefined : v), z.string().min(1).optional()),
  // empty = unset (docker compose passes "" when the user sets nothing)
  RUNPOD_API_URL: z.preprocess((v) => (v === "" ? undefined : v), url.optional()),
  /** where the simulator is when no RUNPOD_API_KEY is set (default http://127.0.0.1:SIM_PORT/v2) */
  RUNPOD_SIM_URL: z.preprocess((v) => (v === "" ? undefined : v), url.optional()),
  RUNPOD_TIMEOUT_MS: positiveInt.default(10_000),
  RUNPOD_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(4),
  /** the account's quota assumed until RunPod's RateLimit-Policy header says otherwise */
  RUNPOD_RATE_LIMIT_PER_MINUTE: positiveInt.default(60),
  /** how long one catalog read (GPU prices and availability) serves every worker */
  RUNPOD_CATALOG_TTL_SECONDS: positiveInt.default(30),
  /** the billing job's first read of RunPod's bill after a pod's termination (RunPod's billing lags) */
  BILLING_DELAY_MS: positiveInt.default(10 * 60_000),
  /** first retry delay of the billing job (doubling) */
  BILLING_RETRY_DELAY_MS: positiveInt.default(5 * 60_000),
  /** RunPod's bill and trainpod's computed cost may differ this much before it is a warning */
  BILLING_MISMATCH_THRESHOLD_MICROS: positiveInt.default(10_000),
  SIM_PORT: port.default(8765),
});

export const apiEnvSchema = z.object({
  API_HOST: z.string().min(1).default("127.0.0.1"),
  API_PORT: port.default(8080),
  PUBLIC_URL: url.optional(),
  TRUST_PROXY: bool.default(false),
  DATASET_DIR: z.string().min(1).default("./var/datasets"),
  ARTIFACT_DIR: z.string().min(1).default("./var/artifacts"),
  DATASET_MAX_BYTES: positiveInt.default(1024 * 1024 * 1024),
  ARTIFACT_MAX_BYTES: positiveInt.default(5 * 1024 * 1024 * 1024),
  /** how long the API trusts an API-key lookup: a revoked key is refused within this time; 0 = no cache */
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** a bearer token Prometheus may scrape /metrics with (admin API keys always work); unset: admins only */
  METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  /** requests a minute per client IP on the API (Redis-backed, shared by every API replica); 0 = off */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  /** requests a minute per deployment on the pod's routes (/v1/runs/:id/...); 0 = off */
  RATE_LIMIT_RUN_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  /** open timeline streams (SSE) one user may hold on one API process; each polls the database */
  SSE_MAX_STREAMS_PER_USER: positiveInt.default(10),
  /** open timeline streams on one API process, all users together */
  SSE_MAX_STREAMS: positiveInt.default(500),
  /** the whole request, body included, must arrive within this (408); 0 = no limit. Long answers are not cut by it */
  API_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).default(300_000),
  /** a request's headers must arrive within this (408); at most API_REQUEST_TIMEOUT_MS */
  API_HEADERS_TIMEOUT_MS: positiveInt.default(30_000),
  /** a kept-alive connection waits this long for its next request (Node closes it 1 s later) */
  API_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000),
  /** a socket with nothing sent either way this long is closed; server-sent-event streams are exempt */
  API_IDLE_TIMEOUT_MS: positiveInt.default(60_000),
});

/** Where datasets and artifacts live: the API host's disk, or an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO). */
export const storageEnvSchema = z.object({
  STORAGE: z.enum(["local", "s3"]).default("local"),
  /** the S3 API endpoint (unset: AWS S3 in S3_REGION) */
  S3_ENDPOINT: z.preprocess((v) => (v === "" ? undefined : v), url.optional()),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_BUCKET: z.preprocess((v) => (v === "" ? undefined : v), z.string().min(3).max(63).optional()),
  /** path-style URLs (endpoint/bucket/key): MinIO and most S3-compatible servers need it */
  S3_FORCE_PATH_STYLE: bool.default(false),
  /** how long a presigned URL (dataset download, artifact upload or download) is valid */
  S3_PRESIGN_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(60),
  /**
   * how long the presigned GET of a dataset is valid (the token URL's redirect, and each re-issue through the run
   * token): long enough for the whole download phase, as a broken transfer resumes on the same URL
   */
  S3_DATASET_PRESIGN_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(3600),
  /** artifacts larger than this are uploaded by the pod in parts of this size (S3's minimum part is 5 MiB) */
  S3_MULTIPART_PART_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 * 1024)
    .max(5 * 1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** all artifacts of one deployment together (besides ARTIFACT_MAX_BYTES per file) */
  ARTIFACT_MAX_TOTAL_BYTES: positiveInt.default(200 * 1024 * 1024 * 1024),
  /** artifacts older than this are deleted by the maintenance job (0: kept forever) */
  ARTIFACT_RETENTION_DAYS: z.coerce.number().int().min(0).default(30),
});

const usd = z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, "a USD amount like 500 or 12.5");

/** What one user may spend and run (docs/spend-control.md); admins override the per-user ones. */
export const spendEnvSchema = z.object({
  /** each user's spend a calendar month (UTC), counted at worst case for live deployments; 0 = no limit */
  USER_MONTHLY_BUDGET_USD: usd.default("1000"),
  /** when a user's spend reaches the budget: block (no new run starts) or stop (running ones are stopped too) */
  BUDGET_ON_EXCEED: z.enum(["block", "stop"]).default("block"),
  /** a user's deployments holding a pod at once; more wait QUEUED in order; 0 = no limit */
  USER_MAX_LIVE_DEPLOYMENTS: z.coerce.number().int().min(0).default(10),
  /** GPUs a user's pods hold at once; more wait QUEUED in order; 0 = no limit */
  USER_MAX_GPUS: z.coerce.number().int().min(0).default(16),
  /** images a deployment may run (comma-separated globs); admins add patterns per user */
  ALLOWED_IMAGES: z.string().default("runpod/*"),
  /** hard ceilings on what one request may ask */
  MAX_GPU_COUNT: positiveInt.default(8),
  MAX_RUNTIME_MINUTES: positiveInt.default(7 * 24 * 60),
  MAX_COST_USD_PER_DEPLOYMENT: usd.default("1000"),
  /** how long an API process trusts a user's limits it read (an admin's change applies at once where it was made, elsewhere within this); 0 = no cache */
  USER_LIMITS_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
});

export const tokenEnvSchema = z.object({
  DATASET_TOKEN_TTL_MINUTES: positiveInt.default(120),
  RUN_TOKEN_TTL_HOURS: positiveInt.default(72),
});

export const workerEnvSchema = z.object({
  WORKER_CONCURRENCY: positiveInt.default(20),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(25_000),
  MONITOR_INTERVAL_MS: positiveInt.default(5_000),
  RECONCILE_INTERVAL_MS: positiveInt.default(60_000),
  MAINTENANCE_INTERVAL_MS: positiveInt.default(15 * 60_000),
  HEARTBEAT_TIMEOUT_SECONDS: positiveInt.default(300),
  /** no training step this long during the train phase (heartbeats arriving): TRAINING_STALLED; 0 = off */
  STALL_TIMEOUT_SECONDS: z.coerce.number().int().min(0).default(1800),
  NO_CAPACITY_MAX_WAIT_MINUTES: positiveInt.default(30),
  /** the worker's own /metrics server (0 = off); it answers on WORKER_METRICS_HOST only */
  WORKER_METRICS_PORT: port.default(9464),
  WORKER_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /** BullMQ lock of an active job; a killed worker's jobs are taken over after it lapses */
  WORKER_LOCK_DURATION_MS: positiveInt.default(30_000),
  /** how often BullMQ looks for stalled jobs (locks that lapsed) */
  WORKER_STALLED_INTERVAL_MS: positiveInt.default(30_000),
  /** a closed deployment's pod still up this long after the outcome is terminated by the monitor itself */
  TERMINATE_SWEEP_AFTER_MS: positiveInt.default(2_000),
  /** a QUEUED deployment with no pod this long has its deploy job enqueued again */
  QUEUED_REQUEUE_AFTER_MS: positiveInt.default(60_000),
  /** a pod created less than this ago that has not reported is never failed POD_VANISHED for being missing (a listing's or a 404 by id) */
  POD_VANISH_GRACE_SECONDS: positiveInt.default(180),
  /** the pod's dead-man switch: after reporting its outcome it waits this long for the worker's DELETE, then deletes itself */
  POD_SELF_TERMINATE_GRACE_SECONDS: z.coerce.number().int().min(10).default(120),
  /** the pod deletes itself once no report has reached the API this long */
  POD_SELF_TERMINATE_UNREACHABLE_MINUTES: positiveInt.default(15),
  POD_NAME_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]+$/, "lowercase letters, digits and dashes")
    .default("trainpod-"),
});

/**
 * Users' secrets at rest (AES-256-GCM): SECRETS_KEY, 32 random bytes as 64 hex characters or base64 (its id derived from
 * it), or while rotating SECRETS_KEYS, `id:key,id:key` (ids optional; the first encrypts, all decrypt). Unset: a fixed
 * development key on the simulator in development or test only; elsewhere secrets cannot be stored (packages/core/src/secrets).
 */
export const secretsEnvSchema = z.object({
  SECRETS_KEY: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  SECRETS_KEYS: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
});

/** The Hugging Face hub the submission's model pre-flight asks (issue 25; packages/core/src/hub/) */
export const hubEnvSchema = z.object({
  /** the hub's URL (default https://huggingface.co with a RunPod key; on the simulator the check is off unless set) */
  HF_ENDPOINT: z.preprocess((v) => (v === "" ? undefined : v), url.optional()),
  /** false: no model access or GPU memory check at submission (models on a network volume, an air-gapped install) */
  HUB_PREFLIGHT: bool.default(true),
  /** each hub request's whole time; past it the submission goes on with a warning */
  HUB_TIMEOUT_MS: positiveInt.default(5_000),
  /** how long a model's info and small files (config.json) are reused, per token scope; 0 = no cache */
  HUB_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(600),
  /** the hub cache's size in all */
  HUB_CACHE_MAX_BYTES: positiveInt.default(256 * 1024 * 1024),
  /** the largest file the API fetches from the hub (never weights: config and tokenizer files) */
  HUB_FILE_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
});

/** The run's estimate before a GPU (issue 35; packages/core/src/estimate/) */
export const estimateEnvSchema = z.object({
  /** a folder of models' small files, `<dir>/<owner>/<name>/tokenizer.json` …, read before the hub (tests, offline) */
  MODEL_FILES_DIR: z.preprocess((v) => (v === "" ? undefined : v), z.string().optional()),
  /** rows an estimate counts at most; a bigger dataset is a uniform random sample of this many (95% interval) */
  ESTIMATE_MAX_ROWS: positiveInt.default(20_000),
  /** an estimate reads the dataset this long at most; the rows counted by then are the sample */
  ESTIMATE_TIME_BUDGET_MS: positiveInt.default(10_000),
  /** finished runs of a model on a GPU type before their median tokens/s replaces the table's figure */
  ESTIMATE_MIN_RUNS: positiveInt.default(3),
});

/** The operators' cache volumes: RunPod network volumes holding packages and model weights (issue 28; cache-volumes/) */
export const cacheEnvSchema = z.object({
  /** a network volume whose name starts with this is a cache volume (RunPod's own list is the registry: no table) */
  CACHE_VOLUME_NAME_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/)
    .default("trainpod-cache-"),
  /** where a pod mounts its data centre's cache volume (never /workspace: the run's own files stay on the pod) */
  CACHE_VOLUME_MOUNT_PATH: z
    .string()
    .regex(/^\/[A-Za-z0-9_./-]+$/)
    .default("/trainpod-cache"),
  /** RunPod's network volume price, USD per GB-month (pricing page: $0.07 under 1 TB; check before quoting) */
  CACHE_VOLUME_USD_PER_GB_MONTH: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,6})?$/)
    .default("0.07"),
  /** how long one read of RunPod's volume list serves every process (kept in Redis; an admin change clears it) */
  CACHE_VOLUMES_TTL_SECONDS: positiveInt.default(60),
  /** the models on a cache volume may fill this share of it; past it the least recently used are evicted */
  CACHE_MAX_FILL_PERCENT: z.coerce.number().int().min(10).max(100).default(80),
});

/** The operators' browser login (POST /admin/login): its session cookie's lifetimes */
export const adminSessionEnvSchema = z.object({
  /** a session unused this long is over */
  ADMIN_SESSION_IDLE_MINUTES: positiveInt.default(30),
  /** a session is over this long after its login, however busy */
  ADMIN_SESSION_MAX_HOURS: positiveInt.default(12),
});

/** The OpenAI-compatible API (/openai/v1) and its webhooks (issue 33; packages/core/src/openai, src/webhooks) */
export const openAiEnvSchema = z.object({
  /** a fine-tuning job's GPU types when its metadata names none (trainpod_gpu_types), comma-separated */
  OPENAI_DEFAULT_GPU_TYPES: z.string().min(1).default("NVIDIA GeForce RTX 4090,NVIDIA RTX A6000,NVIDIA A40"),
  /** how often the worker looks for finished jobs whose webhooks are not made yet */
  WEBHOOK_SCAN_INTERVAL_MS: positiveInt.default(5_000),
  /** the first retry's wait of a webhook delivery; each next one doubles (10 attempts) */
  WEBHOOK_RETRY_DELAY_MS: positiveInt.default(10_000),
  /** one POST to an endpoint, connect to last byte */
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  /** endpoints on private, loopback or link-local addresses allowed (tests, an internal receiver); https is required in production either way */
  WEBHOOK_ALLOW_PRIVATE_URLS: bool.default(false),
});

export const envSchema = coreEnvSchema
  .extend(runpodEnvSchema.shape)
  .extend(apiEnvSchema.shape)
  .extend(storageEnvSchema.shape)
  .extend(spendEnvSchema.shape)
  .extend(tokenEnvSchema.shape)
  .extend(workerEnvSchema.shape)
  .extend(adminSessionEnvSchema.shape)
  .extend(hubEnvSchema.shape)
  .extend(estimateEnvSchema.shape)
  .extend(secretsEnvSchema.shape)
  .extend(openAiEnvSchema.shape)
  .extend(cacheEnvSchema.shape);

export type Env = z.infer<typeof envSchema>;
