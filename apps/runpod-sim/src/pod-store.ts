/** The pods the sim knows, terminated ones included (RunPod's API hides those; /admin shows them). */
import { randomBytes } from "node:crypto";
import type { PodMeter } from "./billing";
import type { Container } from "./container";
import type { PodInput } from "./pod-input";
import type { PodLog } from "./pod-log";
import type { GpuType } from "./prices";

export type DesiredStatus = "RUNNING" | "EXITED" | "TERMINATED";
/** What the container is doing (RunPod's v1 API only shows desiredStatus; /admin shows this). */
export type ContainerState = "booting" | "running" | "restarting" | "exited" | "stopped" | "terminated";

export interface SimPod {
  id: string;
  machineId: string;
  dataCenterId: string;
  input: PodInput;
  /** undefined for a CPU pod */
  gpu?: GpuType;
  /** USD/hour × 1e6 for the whole pod: GPU price × gpuCount (or vCPU price × vcpuCount) */
  costMicrosPerHour: number;
  desiredStatus: DesiredStatus;
  state: ContainerState;
  createdAt: number;
  lastStartedAt?: number;
  terminatedAt?: number;
  lastStatusChange: string;
  restarts: number;
  lastExitCode: number | null;
  publicIp: string | null;
  portMappings: Record<string, number> | null;
  /** holds GPUs from the capacity pool (false once stopped or terminated) */
  holdsCapacity: boolean;
  /** the pod's folder, its volume stand-in (workDir), HOME, and container log */
  podDir: string;
  workDir: string;
  homeDir: string;
  log: PodLog;
  meter: PodMeter;
  container?: Container;
  timer?: NodeJS.Timeout;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A RunPod-like id: lowercase letters and digits, e.g. "xedezhzb9la3ye" (14). */
export function randomId(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export class PodStore {
  private readonly pods = new Map<string, SimPod>();

  newId(): string {
    let id = randomId(14);
    while (this.pods.has(id)) id = randomId(14);
    return id;
  }

  add(pod: SimPod): void {
    this.pods.set(pod.id, pod);
  }

  /** Any pod the sim knows, terminated or not. */
  get(id: string): SimPod | undefined {
    return this.pods.get(id);
  }

  /** What RunPod's API can see: terminated pods are gone. */
  visible(id: string): SimPod | undefined {
    const pod = this.pods.get(id);
    return pod === undefined || pod.desiredStatus === "TERMINATED" ? undefined : pod;
  }

  all(): SimPod[] {
    return [...this.pods.values()];
  }

  clear(): void {
    this.pods.clear();
  }
}
