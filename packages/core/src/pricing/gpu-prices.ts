import type { CloudType } from "../db";
import { usdToMicros } from "./money";

/**
 * On-demand USD/hour for one GPU of each RunPod GPU type (RunPod's `gpuTypeIds` strings), in
 * Secure and Community Cloud: the OFFLINE FALLBACK only. Estimates and pre-flight read RunPod's catalog
 * (GET /v2/catalog/gpus, price-list.ts) and use this table when it cannot be read; once a pod exists, the
 * `cost` RunPod reports for it is the truth (recorded on the deployment and used for every bill).
 */
const LIST_PRICES: Readonly<Record<string, { secure: string; community: string }>> = {
  "NVIDIA GeForce RTX 4090": { secure: "0.69", community: "0.34" },
  "NVIDIA A40": { secure: "0.40", community: "0.35" },
  "NVIDIA RTX A5000": { secure: "0.27", community: "0.16" },
  "NVIDIA GeForce RTX 5090": { secure: "0.94", community: "0.69" },
  "NVIDIA H100 80GB HBM3": { secure: "2.99", community: "2.69" },
  "NVIDIA GeForce RTX 3090": { secure: "0.46", community: "0.22" },
  "NVIDIA RTX A4500": { secure: "0.25", community: "0.19" },
  "NVIDIA L40S": { secure: "0.86", community: "0.79" },
  "NVIDIA H200": { secure: "3.99", community: "3.59" },
  "NVIDIA L4": { secure: "0.43", community: "0.39" },
  "NVIDIA RTX 6000 Ada Generation": { secure: "0.77", community: "0.74" },
  "NVIDIA A100-SXM4-80GB": { secure: "1.89", community: "1.39" },
  "NVIDIA RTX 4000 Ada Generation": { secure: "0.26", community: "0.20" },
  "NVIDIA RTX A6000": { secure: "0.49", community: "0.33" },
  "NVIDIA A100 80GB PCIe": { secure: "1.64", community: "1.19" },
  "NVIDIA RTX 2000 Ada Generation": { secure: "0.24", community: "0.23" },
  "NVIDIA RTX A4000": { secure: "0.25", community: "0.17" },
  "NVIDIA RTX PRO 6000 Blackwell Server Edition": { secure: "1.84", community: "1.79" },
  "NVIDIA H100 PCIe": { secure: "2.39", community: "1.99" },
  "NVIDIA H100 NVL": { secure: "2.79", community: "2.59" },
  "NVIDIA L40": { secure: "0.99", community: "0.69" },
  "NVIDIA B200": { secure: "5.99", community: "5.98" },
  "NVIDIA GeForce RTX 3080 Ti": { secure: "0.18", community: "0.18" },
  "NVIDIA RTX PRO 6000 Blackwell Workstation Edition": { secure: "1.84", community: "1.79" },
  "NVIDIA GeForce RTX 3080": { secure: "0.17", community: "0.17" },
  "NVIDIA GeForce RTX 3070": { secure: "0.13", community: "0.13" },
  "AMD Instinct MI300X OAM": { secure: "2.49", community: "2.49" },
  "NVIDIA GeForce RTX 4080 SUPER": { secure: "0.35", community: "0.28" },
  "Tesla V100-PCIE-16GB": { secure: "0.19", community: "0.19" },
  "Tesla V100-SXM2-32GB": { secure: "0.27", community: "0.27" },
  "NVIDIA RTX 5000 Ada Generation": { secure: "0.57", community: "0.57" },
  "NVIDIA GeForce RTX 4070 Ti": { secure: "0.20", community: "0.20" },
  "NVIDIA RTX 4000 SFF Ada Generation": { secure: "0.22", community: "0.22" },
  "NVIDIA GeForce RTX 3090 Ti": { secure: "0.27", community: "0.27" },
  "NVIDIA RTX A2000": { secure: "0.12", community: "0.12" },
  "NVIDIA GeForce RTX 4080": { secure: "0.30", community: "0.27" },
  "NVIDIA A30": { secure: "0.26", community: "0.26" },
  "NVIDIA GeForce RTX 5080": { secure: "0.47", community: "0.47" },
  "Tesla V100-FHHL-16GB": { secure: "0.19", community: "0.19" },
  "NVIDIA H200 NVL": { secure: "3.39", community: "3.39" },
  "Tesla V100-SXM2-16GB": { secure: "0.22", community: "0.22" },
  "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition": { secure: "1.69", community: "1.69" },
  "NVIDIA A5000 Ada": { secure: "0.57", community: "0.57" },
  "Tesla V100-PCIE-32GB": { secure: "0.22", community: "0.22" },
  "NVIDIA  RTX A4500": { secure: "0.25", community: "0.25" },
  "NVIDIA  A30": { secure: "0.26", community: "0.26" },
  "NVIDIA GeForce RTX 3080TI": { secure: "0.18", community: "0.18" },
  "Tesla T4": { secure: "0.16", community: "0.16" },
  "NVIDIA RTX A30": { secure: "0.26", community: "0.26" },
};

/** The GPU types the table knows, in its order (the new-run form offers those its price list prices). */
export const LISTED_GPU_TYPES: readonly string[] = Object.keys(LIST_PRICES);

function isKnownGpuType(gpuTypeId: string): boolean {
  return Object.hasOwn(LIST_PRICES, gpuTypeId);
}

/** Micro-dollars per hour for one GPU of this type, or null for a type the table does not know. */
export function gpuHourlyPriceMicros(gpuTypeId: string, cloudType: CloudType): bigint | null {
  if (!isKnownGpuType(gpuTypeId)) return null;
  const row = LIST_PRICES[gpuTypeId];
  if (row === undefined) return null;
  return usdToMicros(cloudType === "COMMUNITY" ? row.community : row.secure);
}
