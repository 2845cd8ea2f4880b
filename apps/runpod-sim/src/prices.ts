/**
 * RunPod GPU types the sim rents (GET /v2/catalog/gpus): RunPod's real id strings, display
 * names, memory, and on-demand USD/hour per GPU for Secure and Community Cloud. Prices are
 * plausible list prices, not live ones.
 */
export interface GpuType {
  id: string;
  displayName: string;
  memoryInGb: number;
  securePrice: number;
  communityPrice: number;
}

/** [id, displayName, memoryInGb, securePrice, communityPrice] */
const TABLE: ReadonlyArray<readonly [string, string, number, number, number]> = [
  ["NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.69, 0.34],
  ["NVIDIA A40", "A40", 48, 0.4, 0.35],
  ["NVIDIA RTX A5000", "RTX A5000", 24, 0.27, 0.16],
  ["NVIDIA GeForce RTX 5090", "RTX 5090", 32, 0.94, 0.69],
  ["NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.99, 2.69],
  ["NVIDIA GeForce RTX 3090", "RTX 3090", 24, 0.46, 0.22],
  ["NVIDIA RTX A4500", "RTX A4500", 20, 0.25, 0.19],
  ["NVIDIA L40S", "L40S", 48, 0.86, 0.79],
  ["NVIDIA H200", "H200 SXM", 141, 3.99, 3.59],
  ["NVIDIA L4", "L4", 24, 0.43, 0.39],
  ["NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada", 48, 0.77, 0.74],
  ["NVIDIA A100-SXM4-80GB", "A100 SXM", 80, 1.89, 1.39],
  ["NVIDIA RTX 4000 Ada Generation", "RTX 4000 Ada", 20, 0.26, 0.2],
  ["NVIDIA RTX A6000", "RTX A6000", 48, 0.49, 0.33],
  ["NVIDIA A100 80GB PCIe", "A100 PCIe", 80, 1.64, 1.19],
  ["NVIDIA RTX 2000 Ada Generation", "RTX 2000 Ada", 16, 0.24, 0.23],
  ["NVIDIA RTX A4000", "RTX A4000", 16, 0.25, 0.17],
  ["NVIDIA RTX PRO 6000 Blackwell Server Edition", "RTX PRO 6000", 96, 1.84, 1.79],
  ["NVIDIA H100 PCIe", "H100 PCIe", 80, 2.39, 1.99],
  ["NVIDIA H100 NVL", "H100 NVL", 94, 2.79, 2.59],
  ["NVIDIA L40", "L40", 48, 0.99, 0.69],
  ["NVIDIA B200", "B200", 180, 5.99, 5.98],
  ["NVIDIA GeForce RTX 3080 Ti", "RTX 3080 Ti", 12, 0.18, 0.18],
  ["NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "RTX PRO 6000 WK", 96, 1.84, 1.79],
  ["NVIDIA GeForce RTX 3080", "RTX 3080", 10, 0.17, 0.17],
  ["NVIDIA GeForce RTX 3070", "RTX 3070", 8, 0.13, 0.13],
  ["AMD Instinct MI300X OAM", "MI300X", 192, 2.49, 2.49],
  ["NVIDIA GeForce RTX 4080 SUPER", "RTX 4080 SUPER", 16, 0.35, 0.28],
  ["Tesla V100-PCIE-16GB", "Tesla V100", 16, 0.19, 0.19],
  ["Tesla V100-SXM2-32GB", "V100 SXM2 32GB", 32, 0.27, 0.27],
  ["NVIDIA RTX 5000 Ada Generation", "RTX 5000 Ada", 32, 0.57, 0.57],
  ["NVIDIA GeForce RTX 4070 Ti", "RTX 4070 Ti", 12, 0.2, 0.2],
  ["NVIDIA RTX 4000 SFF Ada Generation", "RTX 4000 Ada SFF", 20, 0.22, 0.22],
  ["NVIDIA GeForce RTX 3090 Ti", "RTX 3090 Ti", 24, 0.27, 0.27],
  ["NVIDIA RTX A2000", "RTX A2000", 6, 0.12, 0.12],
  ["NVIDIA GeForce RTX 4080", "RTX 4080", 16, 0.3, 0.27],
  ["NVIDIA A30", "A30", 24, 0.26, 0.26],
  ["NVIDIA GeForce RTX 5080", "RTX 5080", 16, 0.47, 0.47],
  ["Tesla V100-FHHL-16GB", "V100 FHHL", 16, 0.19, 0.19],
  ["NVIDIA H200 NVL", "H200 NVL", 143, 3.39, 3.39],
  ["Tesla V100-SXM2-16GB", "V100 SXM2", 16, 0.22, 0.22],
  ["NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "RTX PRO 6000 MaxQ", 96, 1.69, 1.69],
  ["NVIDIA A5000 Ada", "A5000 Ada", 32, 0.57, 0.57],
  ["Tesla V100-PCIE-32GB", "V100 PCIe 32GB", 32, 0.22, 0.22],
  ["NVIDIA  RTX A4500", "RTX A4500", 20, 0.25, 0.25],
  ["NVIDIA  A30", "A30", 24, 0.26, 0.26],
  ["NVIDIA GeForce RTX 3080TI", "RTX 3080 Ti", 12, 0.18, 0.18],
  ["Tesla T4", "Tesla T4", 16, 0.16, 0.16],
  ["NVIDIA RTX A30", "RTX A30", 24, 0.26, 0.26],
];

export const GPU_TYPES: ReadonlyMap<string, GpuType> = new Map(
  TABLE.map(([id, displayName, memoryInGb, securePrice, communityPrice]) => [
    id,
    { id, displayName, memoryInGb, securePrice, communityPrice },
  ]),
);

export function gpuType(id: string): GpuType | undefined {
  return GPU_TYPES.get(id);
}

/** Pod volume of a stopped pod: $0.20 per GB-month (730 h), in micro-dollars per GB-hour. */
export const STOPPED_VOLUME_MICROS_PER_GB_HOUR = Math.round((0.2 / 730) * 1e6);

export type CloudType = "SECURE" | "COMMUNITY";

/** Micro-dollars per hour for one GPU of this type in this cloud. */
export function gpuPriceMicros(type: GpuType, cloud: CloudType): number {
  return Math.round((cloud === "COMMUNITY" ? type.communityPrice : type.securePrice) * 1e6);
}

/** The most GPUs of this type one pod may have in this cloud (the largest machine): maxCount in the catalog. */
export function maxGpuCount(type: GpuType, cloud: CloudType): number {
  if (cloud === "COMMUNITY" && type.communityPrice <= 0) return 0;
  return type.memoryInGb >= 40 ? 8 : cloud === "SECURE" ? 8 : 4;
}

export const usdFromMicros = (micros: number): number => Math.round(micros) / 1e6;
