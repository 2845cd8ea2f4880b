import {
  catalogPriceList,
  cacheDepsFor,
  closeQueues,
  confineToDeploymentFolders,
  createBlobStorage,
  createLogger,
  createPrismaClient,
  createQueues,
  createRedis,
  GpuCatalogCache,
  hubForConfig,
  hubTokenFromSecrets,
  secretsKeyring,
  runpodClientForProcess,
  systemClock,
  tablePriceList,
  TimelineHub,
  type BlobStorage,
  type Clock,
  type Config,
  type Hub,
  type Logger,
  type PrismaClient,
  type RunPodClient,
} from "@trainpod/core";
import type { ApiDeps } from "./app";
import { createApiMetrics } from "./admin-screens";

export interface ApiContainer extends ApiDeps {
  close(): Promise<void>;
}

/** What a test (or a bench) may bring instead of what the config would build. */
export interface ApiOverrides {
  logger?: Logger;
  clock?: Clock;
  /** a database client the caller owns (it is not disconnected by close) */
  prisma?: PrismaClient;
  /** a Redis URL other than REDIS_URL (e.g. one that does not answer) */
  redisUrl?: string;
  datasetStorage?: BlobStorage;
  artifactStorage?: BlobStorage;
  /** the RunPod client of the pod-log routes */
  runpod?: RunPodClient;
  /** a timeline hub with other settings (a test's poll interval) */
  timelineHub?: TimelineHub;
  /** the Hugging Face hub of the model pre-flight (default: hubForConfig, null when it is off) */
  modelHub?: Hub | null;
}

/**
 * The composition root of the API, the one place its parts are built: Postgres, Redis, queues, storage (artifacts
 * confined to ARTIFACT_DIR/<deploymentId>), the timeline hub, RunPod clients, GPU prices and metrics.
 */
export function createContainer(config: Config, overrides: ApiOverrides = {}): ApiContainer {
  const logger =
    overrides.logger ?? createLogger({ service: "api", level: config.env.LOG_LEVEL, format: config.logFormat });
  const prisma = overrides.prisma ?? createPrismaClient({ databaseUrl: config.env.DATABASE_URL });
  const redis = createRedis(overrides.redisUrl ?? config.env.REDIS_URL, { failFast: true, name: "trainpod-api" });
  redis.on("error", (err: Error) => logger.warn("redis connection error", { error: err.message }));
  const queues = createQueues(redis, config.env.QUEUE_PREFIX, (err) =>
    logger.warn("queue error", { error: err.message }),
  );
  const clock = overrides.clock ?? systemClock;
  // pod logs: the account's rate budget shared through Redis; prices: a short timeout and no retries (a
  // submission must not wait on RunPod), one catalog read per RUNPOD_CATALOG_TTL_SECONDS for every process
  const rest = overrides.runpod ? undefined : runpodClientForProcess({ config, redis, logger });
  const runpod = overrides.runpod ?? (rest as RunPodClient);
  const priceRunpod =
    overrides.runpod ?? runpodClientForProcess({ config, redis, logger, maxRetries: 0, timeoutMs: 2_000 });
  const catalog = new GpuCatalogCache({
    redis,
    runpod: priceRunpod,
    prefix: config.env.QUEUE_PREFIX,
    ttlSeconds: config.env.RUNPOD_CATALOG_TTL_SECONDS,
    logger,
    localTtlMs: 5_000,
  });
  const timelineHub = overrides.timelineHub ?? new TimelineHub(prisma, () => clock.now());
  // the model pre-flight: the hub (HF_ENDPOINT, cached per token scope) with the user's HF_TOKEN secret
  const modelHub = overrides.modelHub === undefined ? hubForConfig(config) : overrides.modelHub;
  return {
    config,
    logger,
    prisma,
    redis,
    queues,
    clock,
    datasetStorage: overrides.datasetStorage ?? createBlobStorage(config, "datasets"),
    artifactStorage: confineToDeploymentFolders(overrides.artifactStorage ?? createBlobStorage(config, "artifacts")),
    timelineHub,
    runpod,
    prices: async (cloud, count) => {
      const gpus = await catalog.get({ cloud, count });
      return gpus === null ? tablePriceList : catalogPriceList(gpus);
    },
    metrics: createApiMetrics({ prisma, queues }),
    models: modelHub && { hub: modelHub, hubTokenFor: hubTokenFromSecrets(prisma, secretsKeyring(config)) },
    cache: rest && cacheDepsFor(config, rest.networkVolumes(), redis, logger),
    async close() {
      timelineHub.close();
      await closeQueues(queues);
      redis.disconnect();
      if (!overrides.prisma) await prisma.$disconnect();
    },
  };
}
