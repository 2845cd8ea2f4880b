import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort } from "./free-port";

const root = path.resolve(__dirname, "..", "..");

export interface WorkerProcesses {
  /** each worker's /metrics URL */
  metricsUrls: string[];
  /** every line the workers printed */
  output: string[];
  /** SIGTERM all (graceful), SIGKILL what lingers */
  stop(): Promise<void>;
}

/** N real worker processes (apps/worker/src/main.ts, as production runs it), each with its own metrics port. */
export async function startWorkerProcesses(n: number, env: Record<string, string>): Promise<WorkerProcesses> {
  const output: string[] = [];
  const children: ChildProcess[] = [];
  const metricsUrls: string[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    metricsUrls.push(`http://127.0.0.1:${port}/metrics`);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=development", path.join(root, "apps/worker/src/main.ts")],
      {
        cwd: root,
        env: { ...process.env, ...env, WORKER_METRICS_PORT: String(port), WORKER_METRICS_HOST: "127.0.0.1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    for (const stream of [child.stdout, child.stderr])
      stream?.on("data", (chunk: Buffer) => output.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    children.push(child);
  }
  const exited = (c: ChildProcess) =>
    new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
  return {
    metricsUrls,
    output,
    async stop() {
      for (const c of children) c.kill("SIGTERM");
      const timer = setTimeout(() => children.forEach((c) => c.kill("SIGKILL")), 15_000);
      await Promise.all(children.map(exited));
      clearTimeout(timer);
    },
  };
}
