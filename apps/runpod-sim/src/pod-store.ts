/** The pods the sim knows, terminated ones included (RunPod's API hides those; /admin shows them). */
import { randomBytes } from "node:crypto";
import type { PodMeter } from "./billing";
import type { Container } from "./container";
import type { PodInput } from "./pod-input";
import type { PodLog } from "./pod-log";
import type { GpuType } from "./prices";

/** openapi-v2.json's PodStatus */
export type PodStatus = "PROVISIONING" | "STARTING" | "RUNNING" | "EXITED" | "ERROR" | "TERMINATED";
/** What the container is doing (finer than PodStatus; /admin shows it as containerState). */
export type ContainerState = "booting" | "running" | "restarting" | "exited" | "stopped" | "error" | "terminated";

export interface SimPod {
  id: string;
  /** the pod-scoped RUNPOD_API_KEY (secret: never shown) */
  apiKey: string;
  dataCenterId: string;
  input: PodInput;
  gpu: GpuType;
  /** USD/hour × 1e6 for the whole pod: GPU price (for its cloud) × count */
  costMicrosPerHour: number;
  status: PodStatus;
  /** EXITED by the stop action (GPUs released, only the volume bills), not by the container exiting */
  stopped: boolean;
  state: ContainerState;
  createdAt: number;
  /** when the container first started */
  startedAt?: number;
  lastStartedAt?: number;
  terminatedAt?: number;
  restarts: number;
  lastExitCode: number | null;
  publicIp: string | null;
  /** private port → public port for tcp/udp ports, while the container runs */
  portMappings: Record<string, number> | null;
  /** holds GPUs from the capacity pool (false once stopped or terminated) */
  holdsCapacity: boolean;
  /** the pod's folder, its volume stand-in (workDir), HOME, and container log */
  podDir: string;
  workDir: string;
  homeDir: string;
  /** the folder of the network volume it mounts (`mounts.network`), shared with every pod that mounts it */
  networkVolumeDir?: string;
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
  private readonly byKey = new Map<string, SimPod>();

  newId(): string {
    let id = randomId(14);
    while (this.pods.has(id)) id = randomId(14);
    return id;
  }

  add(pod: SimPod): void {
    this.pods.set(pod.id, pod);
    this.byKey.set(pod.apiKey, pod);
  }

  /** Any pod the sim knows, terminated or not. */
  get(id: string): SimPod | undefined {
    return this.pods.get(id);
  }

  /** The pod whose pod-scoped key this is (terminated ones too: their keys are dead, not unknown). */
  byApiKey(key: string): SimPod | undefined {
    return this.byKey.get(key);
  }

  /** What RunPod's API can see: terminated pods are gone. */
  visible(id: string): SimPod | undefined {
    const pod = this.pods.get(id);
    return pod === undefined || pod.status === "TERMINATED" ? undefined : pod;
  }

  all(): SimPod[] {
    return [...this.pods.values()];
  }

  clear(): void {
    this.pods.clear();
    this.byKey.clear();
  }
}
