import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeQueues, createQueues, createRedis, systemClock, type Config } from "@trainpod/core";
import { createApp } from "../../apps/api/src/app";
import { applyServerLimits } from "../../apps/api/src/http/server-limits";
import { createWorkerContainer, type WorkerContainer } from "../../apps/worker/src/container";
import { startWorkers, type WorkerRuntime } from "../../apps/worker/src/bootstrap";
import { createProcessors, type ProcessorDeps } from "../../apps/worker/src/processors";
import { processorDeps } from "../../apps/worker/src/wiring";
import { startSimProcess } from "./sim-process";
import { createTestDatabase, type TestDatabase } from "./test-db";
import { captureLogger, testConfig } from "./test-config";
import { deletePrefix, testQueuePrefix, TEST_REDIS_URL } from "./test-redis";

export interface System {
  config: Config;
  db: TestDatabase;
  apiUrl: string;
  sim: Awaited<ReturnType<typeof startSimProcess>>;
  logs: string[];
  /** the worker's own dependencies, for tests that drive a use case with another clock */
  worker: WorkerContainer;
  deps: ProcessorDeps;
  /** bytes the API's sockets have read and written so far (closed sockets and open ones) */
  apiBytes(): { read: number; written: number };
  stop(): Promise<void>;
}

/**
 * The whole system for an end-to-end test: the simulator as a real process, the API on a real
 * port, the worker in this process, a database and a queue prefix of the test file's own.
 */
export async function startSystem(opts: { env?: Record<string, string>; simEnv?: Record<string, string> } = {}): Promise<System> {
  const sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "100", SIM_RESTART_DELAY_MS: "200", ...opts.simEnv });
  const db = await createTestDatabase();
  const prefix = testQueuePrefix();
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-e2e-"));
  const server = http.createServer();
  const sockets = new Set<import("node:net").Socket>();
  const closed = { read: 0, written: 0 };
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      closed.read += socket.bytesRead;
      closed.written += socket.bytesWritten;
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = testConfig({
    databaseUrl: db.url,
    queuePrefix: prefix,
    env: {
      PUBLIC_URL: apiUrl,
      RUNPOD_API_URL: sim.apiUrl,
      DATASET_DIR: path.join(dir, "datasets"),
      ARTIFACT_DIR: path.join(dir, "artifacts"),
      MONITOR_INTERVAL_MS: "500",
      RECONCILE_INTERVAL_MS: "2000",
      ...opts.env,
    },
  });
  applyServerLimits(server, config.env);
  const { logger, lines } = captureLogger();
  const apiRedis = createRedis(TEST_REDIS_URL, { failFast: true });
  const apiQueues = createQueues(apiRedis, prefix);
  server.on("request", createApp({ config, logger, prisma: db.prisma, redis: apiRedis, queues: apiQueues, clock: systemClock }));
  const worker = createWorkerContainer(config, { logger });
  const deps = processorDeps(worker);
  const runtime: WorkerRuntime = await startWorkers({ ...worker, processors: createProcessors(deps) });
  return {
    config,
    db,
    apiUrl,
    sim,
    logs: lines,
    worker,
    deps,
    apiBytes() {
      let read = closed.read;
      let written = closed.written;
      for (const s of sockets) {
        read += s.bytesRead;
        written += s.bytesWritten;
      }
      return { read, written };
    },
    async stop() {
      await runtime.shutdown(5000);
      await worker.close();
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closeQueues(apiQueues);
      apiRedis.disconnect();
      await sim.stop();
      await db.drop();
      await deletePrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
