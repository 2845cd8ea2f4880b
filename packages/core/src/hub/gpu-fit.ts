import { estimateMemory, gib, GIB, type MemoryEstimate, type MemoryEstimateInput } from "./memory-estimate";

/**
 * GPU memory of RunPod's GPU types in GB (RunPod's catalog `memory`), for when the catalog cannot be read: the
 * pre-flight then judges the types it knows and lets the others through.
 */
const KNOWN_MEMORY_GB: Readonly<Record<string, number>> = {
  "NVIDIA GeForce RTX 3070": 8,
  "NVIDIA GeForce RTX 3080": 10,
  "NVIDIA GeForce RTX 3080 Ti": 12,
  "NVIDIA GeForce RTX 4070 Ti": 12,
  "NVIDIA RTX A2000": 6,
  "NVIDIA RTX A4000": 16,
  "NVIDIA RTX 2000 Ada Generation": 16,
  "NVIDIA GeForce RTX 4080": 16,
  "NVIDIA GeForce RTX 4080 SUPER": 16,
  "NVIDIA GeForce RTX 5080": 16,
  "Tesla T4": 16,
  "Tesla V100-PCIE-16GB": 16,
  "Tesla V100-SXM2-16GB": 16,
  "Tesla V100-FHHL-16GB": 16,
  "NVIDIA RTX A4500": 20,
  "NVIDIA RTX 4000 Ada Generation": 20,
  "NVIDIA RTX 4000 SFF Ada Generation": 20,
  "NVIDIA GeForce RTX 3090": 24,
  "NVIDIA GeForce RTX 3090 Ti": 24,
  "NVIDIA GeForce RTX 4090": 24,
  "NVIDIA RTX A5000": 24,
  "NVIDIA L4": 24,
  "NVIDIA A30": 24,
  "NVIDIA GeForce RTX 5090": 32,
  "NVIDIA RTX 5000 Ada Generation": 32,
  "Tesla V100-SXM2-32GB": 32,
  "Tesla V100-PCIE-32GB": 32,
  "NVIDIA A40": 48,
  "NVIDIA L40": 48,
  "NVIDIA L40S": 48,
  "NVIDIA RTX A6000": 48,
  "NVIDIA RTX 6000 Ada Generation": 48,
  "NVIDIA A100 80GB PCIe": 80,
  "NVIDIA A100-SXM4-80GB": 80,
  "NVIDIA H100 PCIe": 80,
  "NVIDIA H100 80GB HBM3": 80,
  "NVIDIA H100 NVL": 94,
  "NVIDIA RTX PRO 6000 Blackwell Server Edition": 96,
  "NVIDIA RTX PRO 6000 Blackwell Workstation Edition": 96,
  "NVIDIA H200": 141,
  "NVIDIA H200 NVL": 143,
  "NVIDIA B200": 180,
  "AMD Instinct MI300X OAM": 192,
};

export interface GpuMemory {
  gpuTypeId: string;
  /** GB as RunPod's catalog states it (taken as GiB: RunPod rounds the cards' GiB) */
  memoryGb: number;
}

/** Each GPU type's memory: the catalog's where it gave one, else the table's. */
export function gpuMemories(catalog: readonly GpuMemory[] | undefined): Map<string, number> {
  const out = new Map(Object.entries(KNOWN_MEMORY_GB));
  for (const g of catalog ?? []) if (g.memoryGb > 0) out.set(g.gpuTypeId, g.memoryGb);
  return out;
}

/** Volta and Turing (V100, T4) have no bf16: the trainer loads fp32 there, twice the bytes. */
export function hasBf16(gpuTypeId: string): boolean {
  return !/^Tesla (V100|T4)/.test(gpuTypeId);
}

export interface GpuFitReport {
  /** the requested types that fit, or whose memory is unknown, in the request's order */
  kept: string[];
  /** the requested types that cannot hold the run */
  dropped: Array<{ gpuTypeId: string; memoryGb: number; neededGiB: number }>;
  /** the estimate per GPU with bf16 weights (what most GPUs load) */
  estimate: MemoryEstimate;
  /** of every NVIDIA type known (the trainer's image is CUDA), the one with the least memory that fits (ties: tieOrder) */
  smallestFitting?: { gpuTypeId: string; memoryGb: number };
}

/**
 * The requested GPU types split into those whose every GPU can hold its share of the run and those that cannot
 * (the estimate is per GPU: `input.shards` says how the pod's GPUs share it); `input` without its loadBytes, which
 * depends on the type (hasBf16). Pure.
 */
export function fitGpuTypes(
  requested: readonly string[],
  memories: ReadonlyMap<string, number>,
  input: Omit<MemoryEstimateInput, "loadBytes">,
  /** how to order ties for smallestFitting, e.g. by price; default by id */
  tieOrder: (a: string, b: string) => number = (a, b) => a.localeCompare(b),
): GpuFitReport {
  const bf16 = estimateMemory({ ...input, loadBytes: 2 });
  const fp32 = estimateMemory({ ...input, loadBytes: 4 });
  const needed = (id: string) => (hasBf16(id) ? bf16 : fp32).totalBytes;
  const gpuBytes = (gb: number) => gb * GIB;
  const kept: string[] = [];
  const dropped: GpuFitReport["dropped"] = [];
  for (const id of requested) {
    const gb = memories.get(id);
    if (gb === undefined || gpuBytes(gb) >= needed(id)) kept.push(id);
    else dropped.push({ gpuTypeId: id, memoryGb: gb, neededGiB: gib(needed(id)) });
  }
  const fitting = [...memories]
    .filter(([id, gb]) => !id.startsWith("AMD") && gpuBytes(gb) >= needed(id))
    .sort(([a, ga], [b, gb]) => ga - gb || tieOrder(a, b));
  const first = fitting[0];
  return {
    kept,
    dropped,
    estimate: bf16,
    smallestFitting: first === undefined ? undefined : { gpuTypeId: first[0], memoryGb: first[1] },
  };
}
