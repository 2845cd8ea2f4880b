/**
 * One pod's container over time. Boot: PROVISIONING for the first half of SIM_BOOT_DELAY_MS,
 * STARTING (image pull) for the second, then RUNNING once the process is spawned; an image
 * matching `unpullableImagePrefixes` never starts: the pod goes ERROR with Docker's pull errors
 * in the system log. When the container exits: restartPolicy `always` restarts it after
 * SIM_RESTART_DELAY_MS (status stays RUNNING); `never` leaves the pod EXITED. Either way, and in
 * ERROR, the pod keeps its GPUs and keeps billing until it is stopped or terminated.
 */
import path from "node:path";
import type { SimConfig, SimMl } from "./config";
import { startContainer, type Container, type ContainerExit } from "./container";
import { HOST_CUDA_VERSION } from "./data-centers";
import { randomId, type SimPod } from "./pod-store";

export interface LifecycleDeps {
  config(): SimConfig;
  /** the folder holding the python / nvidia-smi stand-ins, first on the pod's PATH */
  binDir: string;
}

/**
 * The container's environment: the sim's ML mode (TRAINPOD_ML=simulated unless SIM_ML=real; the pod's own env may
 * override it), the pod's env, then what RunPod (and the sim) set.
 */
export function containerEnv(
  pod: SimPod,
  binDir: string,
  pathPrepend?: string,
  ml: SimMl = "simulated",
): Record<string, string> {
  const tcp22 = pod.portMappings?.["22"];
  return {
    ...(ml === "simulated" ? { TRAINPOD_ML: "simulated" } : {}),
    ...pod.input.env,
    RUNPOD_POD_ID: pod.id,
    RUNPOD_API_KEY: pod.apiKey,
    RUNPOD_POD_HOSTNAME: `${pod.id}-${randomId(8)}`,
    RUNPOD_GPU_COUNT: String(pod.input.gpuCount),
    RUNPOD_CPU_COUNT: String(pod.input.gpuCount * 8),
    RUNPOD_DC_ID: pod.dataCenterId,
    RUNPOD_PUBLIC_IP: pod.publicIp ?? "",
    ...(tcp22 === undefined ? {} : { RUNPOD_TCP_PORT_22: String(tcp22) }),
    ...(pod.input.mounts.network?.[0] === undefined ? {} : { RUNPOD_VOLUME_ID: pod.input.mounts.network[0].volumeId }),
    // the network volume's folder: the sim cannot mount it at its `path` (volumes.ts)
    ...(pod.networkVolumeDir === undefined ? {} : { SIM_NETWORK_VOLUME_DIR: pod.networkVolumeDir }),
    // The sim cannot mount the volume at /workspace: scripts should use ${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}.
    RUNPOD_VOLUME_MOUNT_PATH: pod.workDir,
    CUDA_VERSION: HOST_CUDA_VERSION,
    SIM_GPU_NAME: pod.gpu.id,
    SIM_GPU_MEMORY_GB: String(pod.gpu.memoryInGb),
    PATH: [
      ...(pathPrepend ? [pathPrepend] : []),
      binDir,
      path.dirname(process.execPath),
      process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    ].join(path.delimiter),
    HOME: pod.homeDir,
    LANG: "C.UTF-8",
    PYTHONUNBUFFERED: "1",
  };
}

/** The repository part of an image reference, as Docker names it in pull errors. */
const repository = (image: string): string => image.replace(/@.*$/, "").replace(/:[^/:]*$/, "");

/** Boots the pod: PROVISIONING → STARTING → RUNNING (or ERROR). `fromStarting` skips provisioning (restart). */
export function scheduleBoot(pod: SimPod, deps: LifecycleDeps, fromStarting = false): void {
  clearTimeout(pod.timer);
  pod.state = "booting";
  const delay = deps.config().bootDelayMs;
  const half = Math.floor(delay / 2);
  const starting = (): void => {
    pod.timer = setTimeout(() => launch(pod, deps), delay - half);
    pod.status = "STARTING";
    pod.log.note(`pulling image ${pod.input.image}`);
  };
  if (fromStarting) return starting();
  pod.status = "PROVISIONING";
  pod.log.note(`scheduling pod on a ${pod.gpu.id} x${pod.input.gpuCount} machine in ${pod.dataCenterId}`);
  pod.timer = setTimeout(starting, half);
}

function launch(pod: SimPod, deps: LifecycleDeps): void {
  pod.timer = undefined;
  if (pod.status !== "STARTING") return;
  const image = pod.input.image;
  if (deps.config().unpullableImagePrefixes.some((prefix) => image.startsWith(prefix))) {
    const repo = repository(image);
    pod.log.note(
      `Error response from daemon: pull access denied for ${repo}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
    );
    pod.log.note(`failed to pull image ${image}: pull access denied for ${repo}`);
    pod.log.note("container could not be created: image pull failed");
    pod.status = "ERROR";
    pod.state = "error";
    return;
  }
  pod.log.note(`${image}: image pulled`);
  const command = pod.input.command;
  pod.publicIp ??= `100.65.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
  pod.portMappings = Object.fromEntries(
    pod.input.ports
      .filter((p) => !p.endsWith("/http"))
      .map((p) => [p.split("/")[0] ?? p, 10000 + Math.floor(Math.random() * 50000)]),
  );
  const now = Date.now();
  pod.startedAt ??= now;
  pod.lastStartedAt = now;
  pod.status = "RUNNING";
  pod.state = "running";
  pod.log.note(
    command.length === 0 ? "container started (idle: no args)" : `container started: ${JSON.stringify(command)}`,
  );
  const container = startContainer({
    command,
    cwd: pod.workDir,
    env: containerEnv(pod, deps.binDir, deps.config().podPathPrepend, deps.config().ml),
    log: pod.log,
  });
  pod.container = container;
  void container.exited.then((exit) => onExit(pod, container, exit, deps));
}

function onExit(pod: SimPod, container: Container, exit: ContainerExit, deps: LifecycleDeps): void {
  // a container killed by stop/restart/terminate/reset is not "exited": those set the state themselves
  if (pod.container !== container || pod.status !== "RUNNING") return;
  pod.container = undefined;
  pod.lastExitCode = exit.code;
  const { restartPolicy, restartDelayMs } = deps.config();
  pod.log.note(`container exited with code ${exit.code}${exit.signal ? ` (${exit.signal})` : ""}`);
  if (restartPolicy === "never") {
    pod.status = "EXITED";
    pod.state = "exited";
    return;
  }
  pod.state = "restarting";
  pod.log.note(`restarting container in ${restartDelayMs} ms`);
  pod.timer = setTimeout(() => {
    if (pod.status !== "RUNNING") return;
    pod.restarts += 1;
    pod.status = "STARTING";
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
