// Money and prices: exact micro-dollar arithmetic, GPU list prices (RunPod's catalog or the offline table), estimates.
export { microsToUsd, usdToMicros } from "./money";
export { catalogPriceList, tablePriceList, type GpuPriceList } from "./price-list";
export { LISTED_GPU_TYPES } from "./gpu-prices";
export { estimateCost, estimateRequestSchema, type CostEstimate, type EstimateRequest } from "./estimate";
