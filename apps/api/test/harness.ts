import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeQueues, createQueues, createRedis, LocalFileStorage, ManualClock, type Config, type Redis } from "@trainpod/core";
import { createApp } from "../src/app";
import { applyServerLimits } from "../src/http/server-limits";
import { createTestDatabase, type TestDatabase } from "../../../test/support/test-db";
import { captureLogger, testConfig } from "../../../test/support/test-config";
import { deletePrefix, testQueuePrefix, TEST_REDIS_URL } from "../../../test/support/test-redis";

/** The API on a real port with its own database, queue prefix, dataset folder and clock. */
export interface ApiHarness {
  db: TestDatabase;
  config: Config;
  clock: ManualClock;
  storage: LocalFileStorage;
  dir: string;
  app: ReturnType<typeof createApp>;
  url: string;
  /** every log line the API wrote */
  logs: string[];
  close(): Promise<void>;
}

export async function startApi(opts: { env?: Record<string, string>; clock?: ManualClock } = {}): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const prefix = testQueuePrefix();
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-api-"));
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = testConfig({ databaseUrl: db.url, queuePrefix: prefix, env: { PUBLIC_URL: url, DATASET_DIR: path.join(dir, "datasets"), ARTIFACT_DIR: path.join(dir, "artifacts"), ...opts.env } });
  applyServerLimits(server, config.env);
  const { logger, lines } = captureLogger("api");
  const redis: Redis = createRedis(TEST_REDIS_URL, { failFast: true });
  const queues = createQueues(redis, prefix);
  const storage = new LocalFileStorage(config.env.DATASET_DIR);
  const clock = opts.clock ?? new ManualClock(Date.now());
  const app = createApp({ config, logger, prisma: db.prisma, redis, queues, clock, datasetStorage: storage });
  server.on("request", app);
  return {
    db,
    config,
    clock,
    storage,
    dir,
    app,
    url,
    logs: lines,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await closeQueues(queues);
      redis.disconnect();
      await db.drop();
      await deletePrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A deployment row for `datasetId` (the fields the schema requires). */
export async function insertDeployment(h: ApiHarness, userId: string, datasetId: string): Promise<string> {
  const d = await h.db.prisma.deployment.create({
    data: {
      userId,
      datasetId,
      baseModel: "tiny",
      gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
      imageName: "img",
      containerDiskInGb: 20,
      volumeInGb: 0,
      maxRuntimeMinutes: 60,
      maxCostMicros: 1_000_000n,
      setupTimeoutMinutes: 10,
    },
  });
  return d.id;
}

/** Every secret-looking thing from `secrets` that appears in the log lines. */
export function leakedSecrets(lines: string[], secrets: string[]): string[] {
  const all = lines.join("\n");
  return secrets.filter((s) => all.includes(s) || all.includes(encodeURIComponent(s)));
}
