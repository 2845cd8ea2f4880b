import type { Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startApi } from "@trainpod/api";
import { startWorker, type ProcessorDeps, type WorkerContainer } from "@trainpod/worker";
import type { Config } from "@trainpod/core";
import { freePort } from "./free-port";
import { startSimProcess } from "./sim-process";
import { createTestDatabase, type TestDatabase } from "./test-db";
import { captureLogger, testConfig } from "./test-config";
import { deletePrefix, testQueuePrefix } from "./test-redis";

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
 * The whole system for an end-to-end test: the simulator as a real process, the API and the worker started
 * in this process exactly as their main.ts starts them (startApi, startWorker), a database, folders and a queue
 * prefix of the test file's own.
 */
export async function startSystem(
  opts: { env?: Record<string, string>; simEnv?: Record<string, string> } = {},
): Promise<System> {
  const sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "100", SIM_RESTART_DELAY_MS: "200", ...opts.simEnv });
  const db = await createTestDatabase();
  const prefix = testQueuePrefix();
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-e2e-"));
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const config = testConfig({
    databaseUrl: db.url,
    queuePrefix: prefix,
    env: {
      API_HOST: "127.0.0.1",
      API_PORT: String(port),
      PUBLIC_URL: apiUrl,
      RUNPOD_API_URL: sim.apiUrl,
      DATASET_DIR: path.join(dir, "datasets"),
      ARTIFACT_DIR: path.join(dir, "artifacts"),
      MONITOR_INTERVAL_MS: "500",
      RECONCILE_INTERVAL_MS: "2000",
      ...opts.env,
    },
  });
  const { logger, lines } = captureLogger();
  const api = await startApi(config, { logger, prisma: db.prisma });
  const bytes = countSocketBytes(api.server);
  const worker = await startWorker(config, { logger });
  return {
    config,
    db,
    apiUrl,
    sim,
    logs: lines,
    worker: worker.container,
    deps: worker.deps,
    apiBytes: bytes,
    async stop() {
      await worker.stop(5000);
      await api.close();
      await sim.stop();
      await db.drop();
      await deletePrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes read and written by a server's sockets, closed ones and open ones. */
function countSocketBytes(server: import("node:http").Server): () => { read: number; written: number } {
  const sockets = new Set<Socket>();
  const closed = { read: 0, written: 0 };
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      closed.read += socket.bytesRead;
      closed.written += socket.bytesWritten;
    });
  });
  return () => {
    let read = closed.read;
    let written = closed.written;
    for (const s of sockets) {
      read += s.bytesRead;
      written += s.bytesWritten;
    }
    return { read, written };
  };
}
