/** Pod operations behind the API: create (placement, price), the actions, terminate, reset. */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { PodMeter } from "./billing";
import { killEveryContainer } from "./container";
import { Capacity } from "./capacity";
import type { SimConfig } from "./config";
import { DEFAULT_DATA_CENTER, HOST_CUDA_VERSION, cudaAtLeast, dataCenter } from "./data-centers";
import { halt, scheduleBoot, type LifecycleDeps } from "./pod-lifecycle";
import type { PodInput } from "./pod-input";
import { PodLog } from "./pod-log";
import { PodStore, randomId, type SimPod } from "./pod-store";
import { STOPPED_VOLUME_MICROS_PER_GB_HOUR, gpuPriceMicros, gpuType, maxGpuCount } from "./prices";
import { VolumeStore } from "./volumes";
import { networkMountPlacement } from "./volume-mounts";

/** An answer RunPod gives as an error: HTTP status and detail (sent as problem+json). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** RunPod's wording when no machine has the GPUs asked for. */
export const NO_CAPACITY_MESSAGE =
  "There are no longer any instances available with the requested specifications. Please refresh and try again.";
/** RunPod's wording when a stopped pod's host no longer has its GPUs free. */
export const NO_GPUS_TO_RESUME_MESSAGE = "There are not enough free GPUs on the host machine to start this pod.";

export type PodAction = "start" | "stop" | "restart" | "terminate";

/** The actions openapi-v2.json's podAction allows in each status (published as the pod's `actions`). */
export function allowedActions(pod: SimPod): PodAction[] {
  switch (pod.status) {
    case "PROVISIONING":
    case "STARTING":
      return ["stop", "terminate"];
    case "RUNNING":
      return ["stop", "restart", "terminate"];
    case "EXITED":
    case "ERROR":
      return ["start", "terminate"];
    case "TERMINATED":
      return [];
  }
}

export class PodManager {
  readonly store = new PodStore();
  readonly capacity: Capacity;
  /** the account's network volumes (volume-routes.ts), which a pod may mount */
  readonly volumes: VolumeStore;
  private readonly lifecycle: LifecycleDeps;

  constructor(
    private readonly config: () => SimConfig,
    private readonly dataDir: string,
    binDir: string,
  ) {
    this.capacity = new Capacity(() => config().capacity);
    this.volumes = new VolumeStore(dataDir);
    this.lifecycle = { config, binDir };
  }

  /** Places one pod on exactly the GPU type asked for, or throws ApiError (400/402/403). */
  create(input: PodInput): SimPod {
    const config = this.config();
    const gpu = gpuType(input.gpuTypeId);
    if (gpu === undefined)
      throw new ApiError(400, `GPU type "${input.gpuTypeId}" does not exist: see GET /v2/catalog/gpus for valid ids`);
    if (input.gpuCount > maxGpuCount(gpu, input.cloud))
      throw new ApiError(
        400,
        `gpu.count ${input.gpuCount} exceeds the ${input.cloud} maximum of ${maxGpuCount(gpu, input.cloud)} for ${gpu.id}`,
      );
    if (config.balanceUsd !== undefined && config.balanceUsd <= 0)
      throw new ApiError(
        402,
        `Insufficient balance: your balance is $${config.balanceUsd.toFixed(2)}; add credits to deploy a pod.`,
      );
    if (config.forbiddenGpuTypes.includes(gpu.id))
      throw new ApiError(403, `your account cannot access the ${gpu.id} pool`);
    // a network mount places the pod in its volume's data centre (or refuses: volume-mounts.ts)
    const placed = networkMountPlacement(input, this.volumes);
    if (placed !== undefined && "refused" in placed) throw new ApiError(400, placed.refused);
    const mounted = placed;
    const dcs =
      mounted !== undefined
        ? [mounted.dataCenter]
        : input.dataCenterIds.length === 0
          ? [DEFAULT_DATA_CENTER]
          : input.dataCenterIds.filter((id) => dataCenter(id) !== undefined);
    if (dcs.length === 0)
      throw new ApiError(
        400,
        `${NO_CAPACITY_MESSAGE} (no ${gpu.id} in data centers ${input.dataCenterIds.join(", ")})`,
      );
    const cudaOk =
      input.allowedCudaVersions.length > 0
        ? input.allowedCudaVersions.includes(HOST_CUDA_VERSION)
        : input.minCudaVersion === undefined || cudaAtLeast(HOST_CUDA_VERSION, input.minCudaVersion);
    if (!cudaOk)
      throw new ApiError(400, `${NO_CAPACITY_MESSAGE} (no ${gpu.id} machine reports the requested CUDA version)`);
    if (!this.capacity.acquire(gpu.id, input.gpuCount))
      throw new ApiError(400, `${NO_CAPACITY_MESSAGE} (${gpu.id} x${input.gpuCount}, ${input.cloud})`);

    const now = Date.now();
    const id = this.store.newId();
    const podDir = path.join(this.dataDir, "pods", id);
    const workDir = path.join(podDir, "workspace");
    const homeDir = path.join(podDir, "home");
    mkdirSync(workDir, { recursive: true });
    mkdirSync(homeDir, { recursive: true });
    if (input.startJupyter && input.env.JUPYTER_PASSWORD === undefined) input.env.JUPYTER_PASSWORD = randomId(16);
    const costMicrosPerHour = gpuPriceMicros(gpu, input.cloud) * input.gpuCount;
    const pod: SimPod = {
      id,
      apiKey: `rpa_POD${randomId(40).toUpperCase()}`,
      dataCenterId: dcs[0] ?? DEFAULT_DATA_CENTER,
      input,
      gpu,
      costMicrosPerHour,
      status: "PROVISIONING",
      stopped: false,
      state: "booting",
      createdAt: now,
      restarts: 0,
      lastExitCode: null,
      publicIp: null,
      portMappings: null,
      holdsCapacity: true,
      podDir,
      workDir,
      homeDir,
      ...(mounted === undefined ? {} : { networkVolumeDir: mounted.dir }),
      log: new PodLog(path.join(podDir, "container.log"), config.logTailBytes),
      meter: new PodMeter(),
    };
    pod.meter.open("compute", costMicrosPerHour, now);
    this.store.add(pod);
    scheduleBoot(pod, this.lifecycle);
    return pod;
  }

  /** Applies an action; throws ApiError 409 when the pod's status does not allow it. */
  async act(pod: SimPod, action: PodAction): Promise<void> {
    if (!allowedActions(pod).includes(action))
      throw new ApiError(
        409,
        `action ${action} is not valid for a pod in status ${pod.status} (allowed: ${allowedActions(pod).join(", ")})`,
      );
    if (action === "terminate") return this.terminate(pod);
    if (action === "stop") return this.stop(pod);
    if (action === "start") return this.start(pod);
    pod.log.note("restarting container (restart requested)");
    await halt(pod, this.config().killGraceMs);
    pod.restarts += 1;
    scheduleBoot(pod, this.lifecycle, true);
  }

  /** Stop: the container is killed, the GPUs go back to the pool, only the volume bills. */
  private async stop(pod: SimPod): Promise<void> {
    const now = Date.now();
    pod.status = "EXITED";
    pod.stopped = true;
    pod.meter.open("volume", (pod.input.mounts.persistent?.size ?? 0) * STOPPED_VOLUME_MICROS_PER_GB_HOUR, now);
    this.releaseGpus(pod);
    pod.log.note("pod stopped by user");
    await halt(pod, this.config().killGraceMs);
    pod.state = "stopped";
    pod.publicIp = null;
    pod.portMappings = null;
  }

  /** Start an EXITED or ERROR pod: a stopped one needs its GPUs back first; then it boots again. */
  private start(pod: SimPod): void {
    if (pod.stopped) {
      if (!this.capacity.acquire(pod.gpu.id, pod.input.gpuCount)) throw new ApiError(400, NO_GPUS_TO_RESUME_MESSAGE);
      pod.holdsCapacity = true;
      pod.stopped = false;
      pod.meter.open("compute", pod.costMicrosPerHour, Date.now());
    }
    pod.log.note("pod started by user");
    scheduleBoot(pod, this.lifecycle);
  }

  /** Terminate: billing ends now, the GPUs go back, the process group is killed, log streams end. */
  async terminate(pod: SimPod): Promise<void> {
    if (pod.status === "TERMINATED") return;
    const now = Date.now();
    pod.meter.close(now);
    pod.status = "TERMINATED";
    pod.terminatedAt = now;
    this.releaseGpus(pod);
    pod.log.note("pod terminated");
    await halt(pod, this.config().killGraceMs);
    pod.state = "terminated";
    await pod.log.close();
  }

  /** Kills every pod (POST /admin/reset, shutdown); with `forget`, drops them and their folders. */
  async terminateAll(forget: boolean): Promise<void> {
    killEveryContainer(); // no grace: a pod still in its kill grace (terminated a moment ago) goes too
    await Promise.all(this.store.all().map((pod) => this.terminate(pod)));
    if (!forget) return;
    this.store.clear();
    this.capacity.reset();
    this.volumes.clear();
    rmSync(path.join(this.dataDir, "pods"), { recursive: true, force: true });
  }

  private releaseGpus(pod: SimPod): void {
    if (pod.holdsCapacity) this.capacity.release(pod.gpu.id, pod.input.gpuCount);
    pod.holdsCapacity = false;
  }
}
