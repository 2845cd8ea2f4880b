/**
 * The pod's container, as a real process group: spawned without a shell (the command is run as
 * given; `bash -c ...` when it asks for bash), output into the pod's log. When its main process
 * exits the rest of its group is killed too, as Docker does when PID 1 exits.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { PodLog } from "./pod-log";

export interface ContainerSpec {
  /** argv parsed from the pod's `args`; empty = an idle container */
  command: string[];
  cwd: string;
  env: Record<string, string>;
  log: PodLog;
}

export interface ContainerExit {
  code: number;
  signal: NodeJS.Signals | null;
}

export interface Container {
  pid: number | undefined;
  exited: Promise<ContainerExit>;
  /** SIGTERM to the process group, SIGKILL after graceMs; resolves when it is gone */
  kill(graceMs: number): Promise<void>;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Each live container's "kill everything now": what a shutdown of the simulator runs (no grace timer outlives it). */
const live = new Set<() => void>();

/** SIGKILL to every process of every live container, at once (the simulator's shutdown and reset). */
export function killEveryContainer(): void {
  for (const kill of [...live]) kill();
}

/**
 * SIGKILL to every process whose environment names this pod (RUNPOD_POD_ID): a process that left the container's
 * process group (its own session, as the pod agent starts the trainer) dies with the container, as Docker's cgroup
 * makes it. Linux's /proc; elsewhere nothing.
 */
function killPodProcesses(podId: string | undefined): void {
  if (podId === undefined) return;
  const mark = `RUNPOD_POD_ID=${podId}\0`;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "latin1");
      if (env.startsWith(mark) || env.includes(`\0${mark}`)) process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already, or not ours to read
    }
  }
}

export function startContainer(spec: ContainerSpec): Container {
  const [file, ...args] = spec.command;
  if (file === undefined) return idleContainer(spec.log);
  const child = spawn(file, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const out = spec.log.stream();
  const err = spec.log.stream();
  child.stdout.on("data", (chunk: Buffer) => out.write(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.write(chunk));
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // group already gone
    }
  };
  const killAll = (): void => {
    signalGroup("SIGKILL");
    killPodProcesses(spec.env.RUNPOD_POD_ID);
  };
  live.add(killAll);
  let done = false;
  const exited = new Promise<ContainerExit>((resolve) => {
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (done) return;
      done = true;
      err.flush();
      err.write(`exec ${file}: ${error.code === "ENOENT" ? "executable file not found in $PATH" : error.message}\n`);
      resolve({ code: error.code === "ENOENT" ? 127 : 126, signal: null });
    });
    // PID 1 exited: kill the rest of its group (as Docker does), then resolve once its output is
    // drained ("close"), or shortly after if an escaped process still holds the pipes
    child.on("exit", (code, signal) => {
      if (done) return;
      done = true;
      killAll();
      live.delete(killAll);
      const finish = (): void => {
        out.flush();
        err.flush();
        resolve({ code: code ?? 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0)), signal });
      };
      const timer = setTimeout(finish, 500);
      child.once("close", () => {
        clearTimeout(timer);
        finish();
      });
    });
  });
  return {
    pid: child.pid,
    exited,
    async kill(graceMs) {
      if (done) {
        await exited;
        return;
      }
      signalGroup("SIGTERM");
      const timer = setTimeout(killAll, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function idleContainer(log: PodLog): Container {
  log.note("no start command (empty args): the container idles until the pod is stopped or terminated");
  let finish: (exit: ContainerExit) => void = () => undefined;
  const exited = new Promise<ContainerExit>((resolve) => (finish = resolve));
  return {
    pid: undefined,
    exited,
    kill: async () => {
      finish({ code: 137, signal: "SIGKILL" });
      await exited;
    },
  };
}
