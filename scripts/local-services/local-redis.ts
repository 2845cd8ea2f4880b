import { accessSync, constants, mkdirSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { startServiceProcess } from "./service-process";

/**
 * A redis-server for `npm start` when REDIS_URL is unset and no Redis answers on the default address: the one on
 * PATH (there is no Redis in npm), on that address, its data (append-only file) in a folder of ours that stays
 * between starts, so queued jobs outlive a restart as the deployments in PostgreSQL do.
 */
export interface LocalRedis {
  /** the redis-server that runs */
  binary: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** The redis-server on PATH, or null. */
export function findRedisServer(pathVar = process.env.PATH ?? ""): string | null {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

async function answersPing(host: string, port: number): Promise<boolean> {
  const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG"; // "LOADING" (an error) while it reads its append-only file
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export async function startLocalRedis(opts: {
  binary: string;
  dataDir: string;
  host: string;
  port: number;
  logFile: string;
}): Promise<LocalRedis> {
  mkdirSync(opts.dataDir, { recursive: true });
  const server = await startServiceProcess({
    name: "redis-server",
    command: opts.binary,
    args: [
      "--bind",
      opts.host === "localhost" ? "127.0.0.1" : opts.host,
      "--port",
      String(opts.port),
      "--dir",
      opts.dataDir,
      "--appendonly",
      "yes",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction", // BullMQ's requirement
      "--daemonize",
      "no",
    ],
    logFile: opts.logFile,
    host: opts.host,
    port: opts.port,
    stopSignal: "SIGTERM", // redis-server flushes its append-only file and exits
    ready: () => answersPing(opts.host, opts.port),
  });
  return { binary: opts.binary, dataDir: opts.dataDir, stop: () => server.stop() };
}
