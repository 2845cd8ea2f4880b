import {
  closeQueues,
  confineToDeploymentFolders,
  createBlobStorage,
  createJobEnqueuer,
  createLogger,
  createMetrics,
  createPrismaClient,
  createQueues,
  createRedis,
  cacheDepsFor,
  registerDeploymentGauges,
  registerQueueDepth,
  runpodCallObserver,
  GpuCatalogCache,
  runpodClientForProcess,
  systemClock,
  type BlobStorage,
  type CacheDeps,
  type Clock,
  type Config,
  type JobEnqueuer,
  type Logger,
  type Metrics,
  type PrismaClient,
  type Queues,
  type Redis,
  type RunPodClient,
} from "@trainpod/core";

export interface WorkerContainer {
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  connection: Redis;
  queues: Queues;
  jobs: JobEnqueuer;
  runpod: RunPodClient;
  /** RunPod's GPU catalog, one read per RUNPOD_CATALOG_TTL_SECONDS for every worker (Redis) */
  gpuCatalog: GpuCatalogCache;
  clock: Clock;
  /** this process's Prometheus registry (served by metrics-server.ts) */
  metrics: Metrics;
  /** where artifacts live (the maintenance job deletes them after ARTIFACT_RETENTION_DAYS) */
  artifactStorage: BlobStorage;
  /** the operators' cache volumes, which the deploy job places pods on (issue 28) */
  cache?: CacheDeps;
  close(): Promise<void>;
}

export interface WorkerContainerOverrides {
  logger?: Logger;
  clock?: Clock;
}

/** The composition root of the worker: Postgres, Redis, queues and the RunPod client from the config. */
export function createWorkerContainer(config: Config, overrides: WorkerContainerOverrides = {}): WorkerContainer {
  const log =
    overrides.logger ?? createLogger({ service: "worker", level: config.env.LOG_LEVEL, format: config.logFormat });
  const prisma = createPrismaClient({ databaseUrl: config.env.DATABASE_URL });
  const connection = createRedis(config.env.REDIS_URL, { name: "trainpod-worker" });
  connection.on("error", (err: Error) => log.warn("redis connection error", { error: err.message }));
  const queues = createQueues(connection, config.env.QUEUE_PREFIX, (err) =>
    log.warn("queue error", { error: err.message }),
  );
  const metrics = createMetrics("worker");
  registerQueueDepth(metrics, queues);
  registerDeploymentGauges(metrics, prisma);
  // the RunPod budget's own fail-fast connection: an acquire must not wait forever for Redis
  const budgetRedis = createRedis(config.env.REDIS_URL, { failFast: true, name: "trainpod-runpod-budget" });
  budgetRedis.on("error", (err: Error) => log.warn("redis (runpod budget) connection error", { error: err.message }));
  const runpod = runpodClientForProcess({
    config,
    redis: budgetRedis,
    logger: log,
    onCall: runpodCallObserver(metrics),
    onPodSkipped: () => metrics.runpodPodsSkipped.inc(),
    onRateWait: (ms, priority) => metrics.runpodRateWaitSeconds.observe({ priority }, ms / 1000),
  });
  return {
    config,
    logger: log,
    prisma,
    connection,
    queues,
    jobs: createJobEnqueuer(queues, {
      delayMs: config.env.BILLING_DELAY_MS,
      retryDelayMs: config.env.BILLING_RETRY_DELAY_MS,
    }),
    runpod,
    gpuCatalog: new GpuCatalogCache({
      redis: connection,
      runpod,
      prefix: config.env.QUEUE_PREFIX,
      ttlSeconds: config.env.RUNPOD_CATALOG_TTL_SECONDS,
      logger: log,
    }),
    clock: overrides.clock ?? systemClock,
    metrics,
    // each key inside ARTIFACT_DIR/<deploymentId> (a planted symlink cannot reach another deployment's files)
    artifactStorage: confineToDeploymentFolders(createBlobStorage(config, "artifacts")),
    cache: cacheDepsFor(config, runpod.networkVolumes(), connection, log),
    async close() {
      await closeQueues(queues);
      await connection.quit().catch(() => connection.disconnect());
      await budgetRedis.quit().catch(() => budgetRedis.disconnect());
      await prisma.$disconnect();
    },
  };
}
