/**
 * One pod's container over time: the boot delay, the run, and what happens when it exits
 * (RunPod restarts it: SIM_RESTART_POLICY=always, after SIM_RESTART_DELAY_MS; with `never` it
 * stays exited). The pod keeps its desiredStatus RUNNING, and keeps billing, either way.
 */
import path from "node:path";
import type { SimConfig } from "./config";
import { startContainer, type Container, type ContainerExit } from "./container";
import { randomId, type SimPod } from "./pod-store";

export interface LifecycleDeps {
  config(): SimConfig;
  /** the folder holding the python / nvidia-smi stand-ins, first on the pod's PATH */
  binDir: string;
}

/** The container's environment: the pod's env, then what RunPod (and the sim) set. */
export function containerEnv(pod: SimPod, binDir: string): Record<string, string> {
  const gpuCount = String(pod.input.gpuCount);
  return {
    ...pod.input.env,
    RUNPOD_POD_ID: pod.id,
    RUNPOD_POD_HOSTNAME: `${pod.id}-${randomId(8)}`,
    RUNPOD_GPU_COUNT: gpuCount,
    RUNPOD_CPU_COUNT: String(pod.input.vcpuCount),
    RUNPOD_DC_ID: pod.dataCenterId,
    RUNPOD_PUBLIC_IP: pod.publicIp ?? "",
    // The sim cannot mount the volume at /workspace: scripts should use ${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}.
    RUNPOD_VOLUME_MOUNT_PATH: pod.workDir,
    SIM_GPU_NAME: pod.gpu?.id ?? "",
    SIM_GPU_MEMORY_GB: String(pod.gpu?.memoryInGb ?? 0),
    PATH: [binDir, path.dirname(process.execPath), process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"].join(path.delimiter),
    HOME: pod.homeDir,
    LANG: "C.UTF-8",
    PYTHONUNBUFFERED: "1",
  };
}

export function scheduleBoot(pod: SimPod, deps: LifecycleDeps): void {
  clearTimeout(pod.timer);
  pod.state = "booting";
  const delay = deps.config().bootDelayMs;
  pod.log.note(`pod ${pod.id} booting (${delay} ms) on ${pod.gpu?.id ?? "CPU"} x${pod.input.gpuCount}`);
  pod.timer = setTimeout(() => launch(pod, deps), delay);
}

function launch(pod: SimPod, deps: LifecycleDeps): void {
  pod.timer = undefined;
  if (pod.desiredStatus !== "RUNNING") return;
  const command = [...pod.input.dockerEntrypoint, ...pod.input.dockerStartCmd];
  pod.publicIp ??= `100.65.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
  pod.portMappings = Object.fromEntries(pod.input.ports.map((p) => [p.split("/")[0] ?? p, 10000 + Math.floor(Math.random() * 50000)]));
  pod.lastStartedAt = Date.now();
  pod.state = "running";
  pod.log.note(command.length === 0 ? "container started (idle)" : `container started: ${JSON.stringify(command)}`);
  const container = startContainer({ command, cwd: pod.workDir, env: containerEnv(pod, deps.binDir), log: pod.log });
  pod.container = container;
  void container.exited.then((exit) => onExit(pod, container, exit, deps));
}

function onExit(pod: SimPod, container: Container, exit: ContainerExit, deps: LifecycleDeps): void {
  // a container killed by stop/terminate/reset is not "exited": those set the state themselves
  if (pod.container !== container || pod.desiredStatus !== "RUNNING") return;
  pod.container = undefined;
  pod.lastExitCode = exit.code;
  const { restartPolicy, restartDelayMs } = deps.config();
  pod.log.note(`container exited with code ${exit.code}${exit.signal ? ` (${exit.signal})` : ""}`);
  if (restartPolicy === "never") {
    pod.state = "exited";
    return;
  }
  pod.state = "restarting";
  pod.log.note(`restarting container in ${restartDelayMs} ms`);
  pod.timer = setTimeout(() => {
    if (pod.desiredStatus !== "RUNNING") return;
    pod.restarts += 1;
    launch(pod, deps);
  }, restartDelayMs);
}

/** Cancels any pending boot/restart and kills the container (SIGTERM, then SIGKILL after graceMs). */
export async function halt(pod: SimPod, graceMs: number): Promise<void> {
  clearTimeout(pod.timer);
  pod.timer = undefined;
  const container = pod.container;
  pod.container = undefined;
  if (container !== undefined) await container.kill(graceMs);
}
