import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(__dirname, "..", "..");

/** env without the variables a test must leave unset (a child inherits jest's DATABASE_URL / REDIS_URL otherwise) */
export function envWithout(names: string[], extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const n of names) delete env[n];
  return { ...env, ...extra };
}

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript entry point (scripts/start.ts, apps/api/src/main.ts, ...) as `npm start` does, in a process
 * group of its own; resolves when it exits, or kills the group and rejects past `timeoutMs`.
 */
export function runEntry(entry: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Exited> {
  const proc = spawnEntry(entry, env);
  return proc.exited(timeoutMs);
}

export interface EntryProcess {
  child: ChildProcess;
  /** stdout so far */
  stdout(): string;
  stderr(): string;
  /** resolves once stdout has a line matching `pattern`; rejects if the process exits first or past `timeoutMs` */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  exited(timeoutMs: number): Promise<Exited>;
  /** SIGKILL to its whole process group (cleanup after a failed test) */
  kill(): void;
}

export function spawnEntry(entry: string, env: NodeJS.ProcessEnv): EntryProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=development", path.join(root, entry)], {
    cwd: root,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const done = new Promise<Exited>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err })),
  );
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    kill,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${out}\n${err.slice(-4000)}`)),
          timeoutMs,
        );
        const check = () => {
          const line = out.split("\n").find((l) => pattern.test(l));
          if (line !== undefined) {
            clearTimeout(timer);
            child.stdout!.off("data", check);
            resolve(line);
          }
        };
        child.stdout!.on("data", check);
        void done.then(() => {
          clearTimeout(timer);
          reject(new Error(`exited before a line matching ${pattern}:\n${out}\n${err.slice(-4000)}`));
        });
        check();
      });
    },
    async exited(timeoutMs) {
      const timer = setTimeout(kill, timeoutMs);
      const r = await done;
      clearTimeout(timer);
      if (r.signal === "SIGKILL")
        throw new Error(`${entry} still ran after ${timeoutMs} ms:\n${r.stdout}\n${r.stderr}`);
      return r;
    },
  };
}
