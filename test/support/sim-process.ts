import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface SimProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** the simulator's process id (its pods are its children) */
  pid: number;
  /** url + "/v2": what a RunPod v2 client takes as its base URL (it calls `${apiUrl}/pods`, `${apiUrl}/catalog/gpus`, ...) */
  apiUrl: string;
  /** fetch against the sim's /admin endpoints, e.g. admin("/admin/pods") */
  admin: (path: string, init?: RequestInit) => Promise<Response>;
  /** SIGTERM (the sim kills every pod), SIGKILL if it lingers, then removes its data dir */
  stop(): Promise<void>;
}

const root = path.resolve(__dirname, "..", "..");
const READY_TIMEOUT_MS = 20_000;

/**
 * Starts apps/runpod-sim as its own process on a random port with a fresh SIM_DATA_DIR and
 * resolves once it prints its `{"msg":"runpod-sim listening","url":...}` line. `env` adds or
 * overrides SIM_* settings (SIM_API_KEY, SIM_BOOT_DELAY_MS, SIM_CAPACITY, SIM_FAULTS, SIM_QUOTA, ...).
 */
export async function startSimProcess(env: Record<string, string> = {}): Promise<SimProcess> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "runpod-sim-test-"));
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/runpod-sim/src/main.ts")], {
    cwd: root,
    env: { ...process.env, SIM_PORT: "0", SIM_HOST: "127.0.0.1", SIM_DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`runpod-sim did not start within ${READY_TIMEOUT_MS} ms: ${stderr}`)),
      READY_TIMEOUT_MS,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
          if (parsed.msg === "runpod-sim listening" && typeof parsed.url === "string") {
            clearTimeout(timer);
            resolve(parsed.url);
          }
        } catch {
          // a partial line: wait for the rest
        }
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`runpod-sim exited with code ${code} before listening: ${stderr}`));
    });
  }).catch(async (err: unknown) => {
    child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  child.stdout.resume();

  let stopping: Promise<void> | undefined;
  return {
    url,
    pid: child.pid ?? 0,
    apiUrl: `${url}/v2`,
    admin: (p, init) => fetch(`${url}${p.startsWith("/") ? p : `/${p}`}`, init),
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}
