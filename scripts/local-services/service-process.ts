import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Whether something accepts TCP connections on host:port (within `timeoutMs`). */
export function tcpAnswers(host: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** host and port of a postgresql:// or redis:// URL (its scheme's default port when it names none). */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port ? Number(u.port) : defaultPort };
}

/** Loopback addresses only: npm start runs a service on this machine, never for another host's address. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** The last lines of a log file, for an error message. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface ServiceProcess {
  pid: number;
  /** sends the service's stop signal, waits for the exit (SIGKILL after `graceMs`, default 30 s) */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a local service (postgres, redis-server) in a process group of its own, so a Ctrl-C in the terminal
 * reaches npm start and not the service: npm start stops the API and the worker first, then the service. Its
 * output goes to `logFile`. Resolves once it accepts connections on host:port; throws with the log's last lines
 * when it exits first or is not ready within `readyMs`. If npm start itself dies, the service is signalled.
 */
export async function startServiceProcess(opts: {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  host: string;
  port: number;
  /** how it is stopped cleanly (postgres: SIGINT, its fast shutdown; redis-server: SIGTERM, which saves) */
  stopSignal: NodeJS.Signals;
  /** resolves true once it serves requests (a listening port may still answer "starting up") */
  ready: () => Promise<boolean>;
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  readyMs?: number;
}): Promise<ServiceProcess> {
  const log = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      detached: true,
      stdio: ["ignore", log, log],
      env: opts.env ?? process.env,
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid }),
    });
  } finally {
    closeSync(log);
  }
  let exitCode: number | string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitCode = signal ?? code;
      resolve();
    });
    child.once("error", (err) => {
      exitCode = err.message;
      resolve();
    });
  });
  // npm start ends without stopping it (a crash): do not leave it running
  const onExit = () => child.kill(opts.stopSignal);
  process.once("exit", onExit);
  const stop = async (graceMs = 30_000, signal = opts.stopSignal) => {
    process.off("exit", onExit);
    if (exitCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (opts.readyMs ?? 60_000);
  while (!(await opts.ready().catch(() => false))) {
    if (exitCode !== null || Date.now() > deadline) {
      const why = exitCode !== null ? `exited (${exitCode})` : `was not ready on ${opts.host}:${opts.port}`;
      await stop(5_000, "SIGKILL");
      throw new Error(`${opts.name} ${why}; the last lines of ${opts.logFile}:\n${logTail(opts.logFile)}`);
    }
    await sleep(200);
  }
  return { pid: child.pid ?? -1, stop };
}
