/**
 * The pod's container, as a real process group: spawned without a shell (the command is run as
 * given; `bash -c ...` when it asks for bash), output into the pod's log. When its main process
 * exits the rest of its group is killed too, as Docker does when PID 1 exits.
 */
import { spawn } from "node:child_process";
import type { PodLog } from "./pod-log";

export interface ContainerSpec {
  /** [...dockerEntrypoint, ...dockerStartCmd]; empty = an idle container */
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

export function startContainer(spec: ContainerSpec): Container {
  const [file, ...args] = spec.command;
  if (file === undefined) return idleContainer(spec.log);
  const child = spawn(file, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (chunk: Buffer) => spec.log.write(chunk));
  child.stderr.on("data", (chunk: Buffer) => spec.log.write(chunk));
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // group already gone
    }
  };
  let done = false;
  const exited = new Promise<ContainerExit>((resolve) => {
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (done) return;
      done = true;
      spec.log.write(`exec ${file}: ${err.code === "ENOENT" ? "executable file not found in $PATH" : err.message}\n`);
      resolve({ code: err.code === "ENOENT" ? 127 : 126, signal: null });
    });
    child.on("exit", (code, signal) => {
      if (done) return;
      done = true;
      signalGroup("SIGKILL");
      resolve({ code: code ?? 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0)), signal });
    });
  });
  return {
    pid: child.pid,
    exited,
    async kill(graceMs) {
      if (done) return;
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function idleContainer(log: PodLog): Container {
  log.write("no start command: the container idles until the pod is stopped or terminated\n");
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
