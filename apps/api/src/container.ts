import {
  closeQueues,
  createLogger,
  createPrismaClient,
  createQueues,
  createRedis,
  createBlobStorage,
  systemClock,
  TimelineHub,
  type Config,
} from "@trainpod/core";
import type { ApiDeps } from "./app";

export interface ApiContainer extends ApiDeps {
  close(): Promise<void>;
}

/** The composition root of the API: real Postgres, Redis and queues from the config. */
export function createContainer(config: Config): ApiContainer {
  const logger = createLogger({ service: "api", level: config.env.LOG_LEVEL, format: config.logFormat });
  const prisma = createPrismaClient({ databaseUrl: config.env.DATABASE_URL });
  const redis = createRedis(config.env.REDIS_URL, { failFast: true, name: "trainpod-api" });
  redis.on("error", (err: Error) => logger.warn("redis connection error", { error: err.message }));
  const queues = createQueues(redis, config.env.QUEUE_PREFIX, (err) => logger.warn("queue error", { error: err.message }));
  const clock = systemClock;
  return {
    config,
    logger,
    prisma,
    redis,
    queues,
    clock,
    datasetStorage: createBlobStorage(config, "datasets"),
    artifactStorage: createBlobStorage(config, "artifacts"),
    timelineHub: new TimelineHub(prisma, () => clock.now()),
    async close() {
      await closeQueues(queues);
      redis.disconnect();
      await prisma.$disconnect();
    },
  };
}
