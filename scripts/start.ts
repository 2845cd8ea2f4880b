/**
 * `npm start`: PostgreSQL and Redis found or started (scripts/local-services: an embedded PostgreSQL and a
 * redis-server from PATH when DATABASE_URL / REDIS_URL are unset and nothing answers on the default address),
 * migrations, then the RunPod simulator (when no RUNPOD_API_KEY is set), the API and the worker as child
 * processes; prints what runs where; Ctrl-C stops the three gracefully, then the services it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { loadConfig, loadConfigOrExit } from "@trainpod/core";
import { deployMigrations, ensureDatabase } from "./db/migrate";
import { resolveLocalServices, type LocalServices } from "./local-services/resolve";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const children: ChildProcess[] = [];
let services: LocalServices | undefined;

function run(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(tsx, ["--conditions=development", entry], {
    cwd: root,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  child.on("exit", (code, signal) => {
    process.stderr.write(`[start] ${name} exited (${signal ?? code})\n`);
    if (!stopping) stop(1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 60_000).unref();
  // the API and the worker first (they finish with the database and Redis still up), then the services
  void Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))))
    .then(() => services?.stop())
    .then(() => process.exit(code));
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  // the config's own defaults, for "DATABASE_URL / REDIS_URL unset"
  const defaults = loadConfig({ ...process.env, DATABASE_URL: undefined, REDIS_URL: undefined }).env;
  services = await resolveLocalServices({
    env: process.env,
    defaults: { databaseUrl: defaults.DATABASE_URL, redisUrl: defaults.REDIS_URL },
    repoRoot: root,
  });
  for (const line of services.lines) process.stdout.write(`[start] ${line}\n`);
  const env = { ...process.env, DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl };
  await ensureDatabase({ databaseUrl: services.databaseUrl });
  const { applied } = await deployMigrations({ databaseUrl: services.databaseUrl });
  process.stdout.write(`[start] migrations applied: ${applied.length === 0 ? "none pending" : applied.join(", ")}\n`);
  if (config.runpod.simulated)
    run("runpod-sim", "apps/runpod-sim/src/main.ts", { ...env, SIM_PORT: String(config.env.SIM_PORT) });
  run("api", "apps/api/src/main.ts", env);
  run("worker", "apps/worker/src/main.ts", env);
  process.stdout.write(
    [
      `[start] api         http://${config.env.API_HOST}:${config.env.API_PORT}  (public URL for pods: ${config.publicUrl})`,
      `[start] runpod      ${config.runpod.apiUrl}${config.runpod.simulated ? "  (local simulator)" : ""}`,
      `[start] dashboard   http://${config.env.API_HOST}:${config.env.API_PORT}/dashboard  (Bull Board: /admin/queues; log in on the page with an admin's or operator's API key)`,
      "",
    ].join("\n"),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`[start] ${err instanceof Error ? err.message : String(err)}\n`);
  stop(1);
});
