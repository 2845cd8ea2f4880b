import {
  closeQueues,
  createLogger,
  createPrismaClient,
  createQueues,
  createRedis,
  systemClock,
  type Clock,
  type Config,
  type Logger,
  type PrismaClient,
  type Queues,
  type Redis,
} from "@trainpod/core";

export interface WorkerContainer {
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  connection: Redis;
  queues: Queues;
  clock: Clock;
  close(): Promise<void>;
}

/** The composition root of the worker: Postgres, Redis and queues from the config. */
export function createWorkerContainer(config: Config, logger?: Logger): WorkerContainer {
  const log = logger ?? createLogger({ service: "worker", level: config.env.LOG_LEVEL, format: config.logFormat });
  const prisma = createPrismaClient({ databaseUrl: config.env.DATABASE_URL });
  const connection = createRedis(config.env.REDIS_URL, { name: "trainpod-worker" });
  connection.on("error", (err: Error) => log.warn("redis connection error", { error: err.message }));
  const queues = createQueues(connection, config.env.QUEUE_PREFIX);
  return {
    config,
    logger: log,
    prisma,
    connection,
    queues,
    clock: systemClock,
    async close() {
      await closeQueues(queues);
      await connection.quit().catch(() => connection.disconnect());
      await prisma.$disconnect();
    },
  };
}
