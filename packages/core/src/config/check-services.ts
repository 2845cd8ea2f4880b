import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";

/**
 * What the API and the worker need running before they start: PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).
 * Each process checks both at start and exits with one message naming the ways to get the missing service,
 * instead of logging connection errors until it is stopped (issue 31).
 */

/** A URL without its password, for a message. */
export function urlForMessage(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

export function redisMissingMessage(url: string, cause: string): string {
  return [
    `Redis does not answer at ${urlForMessage(url)} (${cause}).`,
    "trainpod keeps its job queues in Redis. Get one running, then start again:",
    "  docker compose up -d redis          (from the repository's root)",
    "  or the OS package: apt install redis-server (Debian/Ubuntu), brew install redis && brew services start redis (macOS)",
    "  or set REDIS_URL to a Redis that runs.",
    "(`npm start` starts a redis-server found on PATH by itself when REDIS_URL is unset.)",
  ].join("\n");
}

export function postgresMissingMessage(url: string, cause: string): string {
  return [
    `PostgreSQL does not answer at ${urlForMessage(url)} (${cause}).`,
    "trainpod keeps its deployments in PostgreSQL. Get one running, then start again:",
    "  docker compose up -d postgres       (from the repository's root)",
    "  or the OS package: apt install postgresql (Debian/Ubuntu), brew install postgresql (macOS)",
    "  or set DATABASE_URL to a PostgreSQL that runs.",
    "(`npm start` with DATABASE_URL unset runs an embedded PostgreSQL by itself.)",
  ].join("\n");
}

export class ServiceUnavailableError extends Error {
  override readonly name = "ServiceUnavailableError";
}

export interface CheckServicesOptions {
  databaseUrl: string;
  redisUrl: string;
  /** keep trying this long before giving up (a service started beside this process may need a moment); default 5 s */
  waitMs?: number;
  now?: () => number;
}

function reason(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  // a refused connection on both localhost addresses comes as an AggregateError with an empty message
  const text = e.message || e.errors?.map((x) => x.message).join("; ") || e.code || String(err);
  return urlForMessage(text);
}

async function pingPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pingRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // the cause (ECONNREFUSED ...) comes as an event; connect() then rejects with only "Connection is closed."
  let cause: Error | undefined;
  redis.on("error", (err: Error) => (cause ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw cause ?? err;
  } finally {
    redis.disconnect();
  }
}

async function untilAnswers(ping: () => Promise<void>, deadline: number, now: () => number): Promise<string | null> {
  for (;;) {
    try {
      await ping();
      return null;
    } catch (err) {
      if (now() + 500 >= deadline) return reason(err);
      await sleep(500);
    }
  }
}

/**
 * Resolves when PostgreSQL and Redis both answer; otherwise throws a ServiceUnavailableError whose message says
 * which is missing and how to get it (the process prints it and exits non-zero).
 */
export async function checkServices(opts: CheckServicesOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const deadline = now() + (opts.waitMs ?? 5_000);
  const [pgCause, redisCause] = await Promise.all([
    untilAnswers(() => pingPostgres(opts.databaseUrl), deadline, now),
    untilAnswers(() => pingRedis(opts.redisUrl), deadline, now),
  ]);
  const problems = [
    ...(pgCause === null ? [] : [postgresMissingMessage(opts.databaseUrl, pgCause)]),
    ...(redisCause === null ? [] : [redisMissingMessage(opts.redisUrl, redisCause)]),
  ];
  if (problems.length > 0) throw new ServiceUnavailableError(problems.join("\n\n"));
}
