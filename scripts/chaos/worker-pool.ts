import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "..", "..");

export interface WorkerPool {
  kills: number;
  /** workers that exited by themselves and were started again */
  restarts: number;
  /** SIGKILL one worker process, chosen by `pick` (0..size-1), and start a new one in its place after `restartAfterMs` */
  killOne(pick: number, restartAfterMs: number): Promise<void>;
  /** SIGTERM all (graceful), SIGKILL what lingers */
  stop(): Promise<void>;
}

/**
 * K worker processes (apps/worker/src/main.ts, as `npm start` runs it), their output appended to
 * `logFile`. Each gets the same environment: the chaos run's database, Redis, prefix and simulator.
 */
export function startWorkerPool(size: number, env: Record<string, string>, logFile: string): WorkerPool {
  const log: WriteStream = createWriteStream(logFile, { flags: "a" });
  let stopping = false;
  const killed = new Set<ChildProcess>();
  // like a process supervisor (docker's restart policy): a worker that exits by itself (e.g. it gave up
  // waiting for Postgres on a loaded machine) is started again; SIGKILLs and stop() are ours and are not
  const spawnOne = (slot: number): ChildProcess => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=development", path.join(root, "apps/worker/src/main.ts")],
      {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once("exit", () => {
      if (stopping || killed.has(child) || workers[slot] !== child) return;
      pool.restarts += 1;
      setTimeout(() => {
        if (!stopping && workers[slot] === child) workers[slot] = spawnOne(slot);
      }, 1000);
    });
    return child;
  };
  const workers: ChildProcess[] = [];
  for (let i = 0; i < size; i++) workers.push(spawnOne(i));
  const exited = (c: ChildProcess) =>
    new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));
  const pool: WorkerPool = {
    kills: 0,
    restarts: 0,
    async killOne(pick, restartAfterMs) {
      const i = pick % workers.length;
      const victim = workers[i] as ChildProcess;
      killed.add(victim);
      victim.kill("SIGKILL");
      await exited(victim);
      pool.kills += 1;
      await new Promise((r) => setTimeout(r, restartAfterMs));
      // the victim may have exited by itself just before: then the supervisor already put a new worker in its slot
      if (!stopping && workers[i] === victim) workers[i] = spawnOne(i);
    },
    async stop() {
      stopping = true;
      for (const w of workers) w.kill("SIGTERM");
      const timer = setTimeout(() => workers.forEach((w) => w.kill("SIGKILL")), 15_000);
      await Promise.all(workers.map(exited));
      clearTimeout(timer);
      log.end();
    },
  };
  return pool;
}
