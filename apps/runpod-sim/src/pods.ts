/** Pod operations behind the API: create (capacity, price), stop, start, terminate, reset. */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { PodMeter } from "./billing";
import { Capacity } from "./capacity";
import type { SimConfig } from "./config";
import { halt, scheduleBoot, type LifecycleDeps } from "./pod-lifecycle";
import type { PodInput } from "./pod-input";
import { PodLog } from "./pod-log";
import { PodStore, randomId, type SimPod } from "./pod-store";
import { CPU_PRICE_PER_VCPU, STOPPED_VOLUME_MICROS_PER_GB_HOUR, gpuPriceMicros, gpuType } from "./prices";

/** An answer RunPod gives as an error: HTTP status and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** RunPod's wording when no machine has the GPUs asked for (REST v1 wraps it as "create pod: ..."). */
export const NO_CAPACITY_MESSAGE = "There are no longer any instances available with the requested specifications. Please refresh and try again.";
/** RunPod's wording when a stopped pod's host no longer has its GPUs free. */
export const NO_GPUS_TO_RESUME_MESSAGE = "There are not enough free GPUs on the host machine to start this pod.";

const statusTime = (): string => new Date().toString();

export class PodManager {
  readonly store = new PodStore();
  readonly capacity: Capacity;
  private readonly lifecycle: LifecycleDeps;

  constructor(
    private readonly config: () => SimConfig,
    private readonly dataDir: string,
    binDir: string,
  ) {
    this.capacity = new Capacity(() => config().capacity);
    this.lifecycle = { config, binDir };
  }

  create(input: PodInput): SimPod {
    const now = Date.now();
    let costMicrosPerHour = Math.round(CPU_PRICE_PER_VCPU * input.vcpuCount * 1e6);
    const gpuTypeId = input.computeType === "GPU" ? this.capacity.pick(input.gpuTypeIds, input.gpuCount, input.gpuTypePriority) : undefined;
    if (input.computeType === "GPU") {
      if (gpuTypeId === undefined || !this.capacity.acquire(gpuTypeId, input.gpuCount)) throw new ApiError(500, `create pod: ${NO_CAPACITY_MESSAGE}`);
    }
    const gpu = gpuTypeId === undefined ? undefined : gpuType(gpuTypeId);
    if (gpu !== undefined) costMicrosPerHour = gpuPriceMicros(gpu, input.cloudType, input.interruptible) * input.gpuCount;
    const id = this.store.newId();
    const podDir = path.join(this.dataDir, "pods", id);
    const workDir = path.join(podDir, "workspace");
    const homeDir = path.join(podDir, "home");
    mkdirSync(workDir, { recursive: true });
    mkdirSync(homeDir, { recursive: true });
    const pod: SimPod = {
      id,
      machineId: randomId(12),
      dataCenterId: input.dataCenterIds[0] ?? "EU-RO-1",
      input,
      gpu,
      costMicrosPerHour,
      desiredStatus: "RUNNING",
      state: "booting",
      createdAt: now,
      lastStatusChange: `Rented by User: ${statusTime()}`,
      restarts: 0,
      lastExitCode: null,
      publicIp: null,
      portMappings: {},
      holdsCapacity: gpu !== undefined,
      podDir,
      workDir,
      homeDir,
      log: new PodLog(path.join(podDir, "container.log"), this.config().logTailBytes),
      meter: new PodMeter(),
    };
    pod.meter.open("compute", costMicrosPerHour, now);
    this.store.add(pod);
    scheduleBoot(pod, this.lifecycle);
    return pod;
  }

  /** Stop: the container is killed, the GPUs go back to the pool, only the volume bills. */
  async stop(pod: SimPod): Promise<void> {
    if (pod.desiredStatus !== "RUNNING") return;
    const now = Date.now();
    pod.desiredStatus = "EXITED";
    pod.lastStatusChange = `Exited by user: ${statusTime()}`;
    pod.meter.open("volume", (pod.input.volumeInGb ?? 0) * STOPPED_VOLUME_MICROS_PER_GB_HOUR, now);
    this.releaseGpus(pod);
    pod.log.note("pod stopped by user");
    await halt(pod, this.config().killGraceMs);
    pod.state = "stopped";
    pod.publicIp = null;
    pod.portMappings = null;
  }

  /** Start (resume) a stopped pod: it needs its GPUs back, then boots again. */
  start(pod: SimPod): void {
    if (pod.desiredStatus !== "EXITED") return;
    if (pod.gpu !== undefined) {
      if (!this.capacity.acquire(pod.gpu.id, pod.input.gpuCount)) throw new ApiError(500, NO_GPUS_TO_RESUME_MESSAGE);
      pod.holdsCapacity = true;
    }
    pod.desiredStatus = "RUNNING";
    pod.lastStatusChange = `Resumed by user: ${statusTime()}`;
    pod.meter.open("compute", pod.costMicrosPerHour, Date.now());
    scheduleBoot(pod, this.lifecycle);
  }

  /** Terminate: billing ends now, the GPUs go back, the process group is killed. */
  async terminate(pod: SimPod): Promise<void> {
    if (pod.desiredStatus === "TERMINATED") return;
    const now = Date.now();
    pod.meter.close(now);
    pod.desiredStatus = "TERMINATED";
    pod.terminatedAt = now;
    pod.lastStatusChange = `Terminated by user: ${statusTime()}`;
    this.releaseGpus(pod);
    pod.log.note("pod terminated by user");
    await halt(pod, this.config().killGraceMs);
    pod.state = "terminated";
    await pod.log.close();
  }

  /** Kills every pod (POST /admin/reset, shutdown); with `forget`, drops them and their folders. */
  async terminateAll(forget: boolean): Promise<void> {
    await Promise.all(this.store.all().map((pod) => this.terminate(pod)));
    if (!forget) return;
    this.store.clear();
    this.capacity.reset();
    rmSync(path.join(this.dataDir, "pods"), { recursive: true, force: true });
  }

  private releaseGpus(pod: SimPod): void {
    if (pod.gpu !== undefined && pod.holdsCapacity) this.capacity.release(pod.gpu.id, pod.input.gpuCount);
    pod.holdsCapacity = false;
  }
}
