import { randomBytes } from "node:crypto";
import type { PodCreateInput } from "@trainpod/core";
import { startSimProcess } from "../support/sim-process";

/** Controls only the simulator has: fault injection, capacity, and its own request statistics. */
export interface SimControls {
  configure(patch: Record<string, unknown>): Promise<void>;
  stats(): Promise<unknown>;
  /** a GPU type with no capacity at all, for the no-capacity error */
  soldOutGpuType: string;
}

/** Where the contract suite runs: the simulator, or the real RunPod. */
export interface ContractTarget {
  name: string;
  apiUrl: string;
  apiKey: string;
  /** every pod this run creates is named with it, so cleanup finds them all */
  namePrefix: string;
  podInput(suffix: string): PodCreateInput;
  /** present for the simulator only */
  sim?: SimControls;
  stop(): Promise<void>;
}

const runId = (): string => randomBytes(3).toString("hex");

const SOLD_OUT = "NVIDIA H200";
const AVAILABLE = "NVIDIA RTX A4000";

export async function simTarget(): Promise<ContractTarget> {
  const apiKey = `sim-contract-${randomBytes(12).toString("hex")}`;
  const sim = await startSimProcess({
    SIM_API_KEY: apiKey,
    SIM_BOOT_DELAY_MS: "50",
    SIM_SEED: "7",
    SIM_CAPACITY: JSON.stringify({ [AVAILABLE]: 100, [SOLD_OUT]: 0 }),
  });
  const admin = async (path: string, init?: RequestInit): Promise<unknown> => {
    const res = await sim.admin(path, init);
    if (!res.ok) throw new Error(`sim admin ${init?.method ?? "GET"} ${path} answered ${res.status}: ${await res.text()}`);
    const text = await res.text();
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  };
  const namePrefix = `tp-contract-${runId()}-`;
  return {
    name: "simulator",
    apiUrl: sim.apiUrl,
    apiKey,
    namePrefix,
    podInput: (suffix) => ({
      name: `${namePrefix}${suffix}`,
      imageName: "trainpod/contract:latest",
      gpuTypeIds: [AVAILABLE],
      gpuCount: 1,
      cloudType: "SECURE",
      computeType: "GPU",
      containerDiskInGb: 10,
      volumeInGb: 0,
      env: { CONTRACT: "1" },
      dockerStartCmd: ["bash", "-c", "sleep 300"],
    }),
    sim: {
      soldOutGpuType: SOLD_OUT,
      configure: async (patch) => {
        await admin("/admin/config", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(patch) });
      },
      stats: () => admin("/admin/stats"),
    },
    stop: () => sim.stop(),
  };
}

/**
 * The real RunPod, only with RUNPOD_API_KEY and RUNPOD_CONTRACT=1. Pods are the cheapest that will
 * do (override with RUNPOD_CONTRACT_GPU_TYPES, comma-separated) and live for seconds.
 */
export function realTargetConfigured(): boolean {
  return process.env.RUNPOD_CONTRACT === "1" && (process.env.RUNPOD_API_KEY ?? "") !== "";
}

export async function realTarget(): Promise<ContractTarget> {
  const gpuTypeIds = (process.env.RUNPOD_CONTRACT_GPU_TYPES ?? "NVIDIA RTX A4000,NVIDIA RTX A5000,NVIDIA GeForce RTX 3090")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const namePrefix = `tp-contract-${runId()}-`;
  return {
    name: "real RunPod",
    apiUrl: process.env.RUNPOD_API_URL ?? "https://rest.runpod.io/v1",
    apiKey: process.env.RUNPOD_API_KEY ?? "",
    namePrefix,
    podInput: (suffix) => ({
      name: `${namePrefix}${suffix}`,
      imageName: "busybox:1.36",
      gpuTypeIds,
      gpuTypePriority: "availability",
      gpuCount: 1,
      cloudType: "COMMUNITY",
      computeType: "GPU",
      containerDiskInGb: 5,
      volumeInGb: 0,
      env: { CONTRACT: "1" },
      dockerStartCmd: ["sh", "-c", "sleep 600"],
    }),
    stop: async () => undefined,
  };
}
