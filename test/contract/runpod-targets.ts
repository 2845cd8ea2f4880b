import { randomBytes } from "node:crypto";
import { RUNPOD_API_V2_URL, RunPodRestClient, type CreatePodRequest } from "@trainpod/core";
import { startSimProcess, type SimProcess } from "../support/sim-process";

/** Controls only the simulator has: its admin config, its statistics, and GPU types set up for the error cases. */
export interface SimControls {
  /** PATCH /admin/config */
  configure(patch: Record<string, unknown>): Promise<void>;
  /** GET /admin/stats */
  stats(): Promise<unknown>;
  /** POST /admin/reset: forgets every pod and zeroes the statistics and the quota windows */
  reset(): Promise<void>;
  /** a GPU type with free GPUs (capacity 100) */
  availableGpuType: string;
  /** a GPU type with capacity 0: create answers 400 */
  soldOutGpuType: string;
  /** a GPU type in forbiddenGpuTypes: create answers 403 */
  forbiddenGpuType: string;
}

/** Where the contract runs: the simulator, or the real RunPod. */
export interface ContractTarget {
  name: string;
  /** the client's base URL, ending in /v2 */
  apiUrl: string;
  apiKey: string;
  /** every pod this run creates is named with it, so cleanup finds them all */
  namePrefix: string;
  /** the GPU type pods are created on */
  gpuTypeId: string;
  podInput(suffix: string, overrides?: Partial<CreatePodRequest>): CreatePodRequest;
  /** present for the simulator only */
  sim?: SimControls;
  stop(): Promise<void>;
}

const runId = (): string => randomBytes(3).toString("hex");

const AVAILABLE = "NVIDIA RTX A4000";
const SOLD_OUT = "NVIDIA H200";
const FORBIDDEN = "NVIDIA B200";

async function adminJson(sim: SimProcess, path: string, init?: RequestInit): Promise<unknown> {
  const res = await sim.admin(path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`sim admin ${init?.method ?? "GET"} ${path} answered ${res.status}: ${text}`);
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

/** A simulator process of its own (random port, temp data dir), with `env` on top of the contract's settings. */
export async function simTarget(env: Record<string, string> = {}): Promise<ContractTarget> {
  const apiKey = `sim-contract-${randomBytes(12).toString("hex")}`;
  const sim = await startSimProcess({
    SIM_API_KEY: apiKey,
    SIM_BOOT_DELAY_MS: "50",
    SIM_KILL_GRACE_MS: "500",
    SIM_SEED: "7",
    SIM_CAPACITY: JSON.stringify({ [AVAILABLE]: 100, [SOLD_OUT]: 0 }),
    SIM_FORBIDDEN_GPU_TYPES: JSON.stringify([FORBIDDEN]),
    ...env,
  });
  const namePrefix = `tp-contract-${runId()}-`;
  return {
    name: "simulator",
    apiUrl: sim.apiUrl,
    apiKey,
    namePrefix,
    gpuTypeId: AVAILABLE,
    podInput: (suffix, overrides = {}) => ({
      name: `${namePrefix}${suffix}`,
      image: "trainpod/contract:latest",
      gpu: { id: AVAILABLE, count: 1 },
      cloud: "SECURE",
      disk: 10,
      mounts: { persistent: { size: 20, path: "/workspace" } },
      env: { CONTRACT: "1" },
      ports: ["22/tcp", "8888/http"],
      // a line a second on stdout, so the container log source has something to stream
      args: `bash -c 'echo contract-start; while true; do echo contract-tick; sleep 1; done'`,
      ...overrides,
    }),
    sim: {
      availableGpuType: AVAILABLE,
      soldOutGpuType: SOLD_OUT,
      forbiddenGpuType: FORBIDDEN,
      configure: async (patch) => {
        await adminJson(sim, "/admin/config", {
          method: "PATCH",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(patch),
        });
      },
      stats: () => adminJson(sim, "/admin/stats"),
      reset: async () => {
        await adminJson(sim, "/admin/reset", { method: "POST" });
      },
    },
    stop: () => sim.stop(),
  };
}

/** The real RunPod runs only with RUNPOD_API_KEY and RUNPOD_CONTRACT=1. */
export function realTargetConfigured(): boolean {
  return process.env.RUNPOD_CONTRACT === "1" && (process.env.RUNPOD_API_KEY ?? "") !== "";
}

/**
 * The real RunPod (RUNPOD_API_URL, default api.runpod.io/v2). Its one pod is the cheapest: the GPU
 * type from RUNPOD_CONTRACT_GPU_TYPE, else the cheapest Community type the catalog reports in
 * stock; a busybox that sleeps, no volume, a 5 GB container disk. The suite terminates it in
 * `finally` and again in afterAll. `fetch` is the recorder's, so the catalog read is validated too.
 */
export async function realTarget(fetchImpl: typeof fetch): Promise<ContractTarget> {
  const apiUrl = process.env.RUNPOD_API_URL ?? RUNPOD_API_V2_URL;
  const apiKey = process.env.RUNPOD_API_KEY ?? "";
  let gpuTypeId = process.env.RUNPOD_CONTRACT_GPU_TYPE ?? "";
  if (gpuTypeId === "") {
    const gpus = await new RunPodRestClient({ baseUrl: apiUrl, apiKey, fetch: fetchImpl }).listGpuTypes({
      cloud: "COMMUNITY",
    });
    const cheapest = gpus
      .filter((g) => g.availability !== undefined && g.availability !== "NONE" && g.price.community > 0)
      .sort((a, b) => a.price.community - b.price.community)[0];
    if (cheapest === undefined) throw new Error("no Community GPU type in stock: set RUNPOD_CONTRACT_GPU_TYPE");
    gpuTypeId = cheapest.id;
  }
  const namePrefix = `tp-contract-${runId()}-`;
  return {
    name: "real RunPod",
    apiUrl,
    apiKey,
    namePrefix,
    gpuTypeId,
    podInput: (suffix, overrides = {}) => ({
      name: `${namePrefix}${suffix}`,
      image: "busybox:1.36",
      gpu: { id: gpuTypeId, count: 1 },
      cloud: "COMMUNITY",
      disk: 5,
      env: { CONTRACT: "1" },
      args: "sh -c 'echo contract-start; sleep 600'",
      ...overrides,
    }),
    stop: async () => undefined,
  };
}
