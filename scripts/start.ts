/**
 * `npm start`: migrations, then the RunPod simulator (when no RUNPOD_API_KEY is set), the API and
 * the worker as child processes; prints their URLs; Ctrl-C stops all three gracefully.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { loadConfigOrExit } from "@trainpod/core";
import { deployMigrations, ensureDatabase } from "./db/migrate";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const children: ChildProcess[] = [];

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
  setTimeout(() => process.exit(code), 30_000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r))))).then(() =>
    process.exit(code),
  );
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const env = { ...process.env };
  await ensureDatabase({ databaseUrl: config.env.DATABASE_URL });
  const { applied } = await deployMigrations({ databaseUrl: config.env.DATABASE_URL });
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
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`[start] ${err instanceof Error ? err.message : String(err)}\n`);
  stop(1);
});
