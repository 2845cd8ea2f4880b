import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import express from "express";
import { startApi } from "@trainpod/api";
import { ManualClock, type BlobStorage, type Config, type RunPodClient } from "@trainpod/core";
import { freePort } from "./free-port";
import { createTestDatabase, type TestDatabase } from "./test-db";
import { captureLogger, testConfig } from "./test-config";
import { deletePrefix, testQueuePrefix } from "./test-redis";

/** The API on a real port with its own database, queue prefix, storage folders and clock. */
export interface ApiHarness {
  db: TestDatabase;
  config: Config;
  clock: ManualClock;
  /** the API's dataset storage */
  storage: BlobStorage;
  dir: string;
  app: express.Express;
  url: string;
  /** every log line the API wrote */
  logs: string[];
  close(): Promise<void>;
}

/** The API as main.ts starts it (startApi), on a free port, with a test database, queue prefix, folders and clock. */
export async function startTestApi(
  opts: { env?: Record<string, string>; clock?: ManualClock; runpod?: RunPodClient } = {},
): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const prefix = testQueuePrefix();
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-api-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    API_HOST: "127.0.0.1",
    API_PORT: String(port),
    PUBLIC_URL: url,
    DATASET_DIR: path.join(dir, "datasets"),
    ARTIFACT_DIR: path.join(dir, "artifacts"),
    ...opts.env,
  };
  const config = testConfig({ databaseUrl: db.url, queuePrefix: prefix, env });
  const { logger, lines } = captureLogger("api");
  const clock = opts.clock ?? new ManualClock(Date.now());
  const api = await startApi(config, {
    logger,
    clock,
    prisma: db.prisma,
    ...(opts.runpod ? { runpod: opts.runpod } : {}),
  });
  return {
    db,
    config,
    clock,
    storage: api.container.datasetStorage,
    dir,
    app: api.app,
    url: api.url,
    logs: lines,
    async close() {
      await api.close();
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
