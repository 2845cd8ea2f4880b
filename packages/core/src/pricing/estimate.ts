import { z } from "zod";
import { AppError } from "../errors";
import { costForSeconds } from "../deployment/cost";
import { tablePriceList, type GpuPriceList } from "./price-list";
import { deploymentRequestSchema } from "../deployment/request-schema";
import { microsToUsd, usdToMicros } from "./money";

/** The body of POST /v1/deployments/estimate: a deployment request (dataset and model optional) plus an expected runtime. */
export const estimateRequestSchema = deploymentRequestSchema.partial({ datasetId: true, baseModel: true }).extend({
  /** how long the run is expected to take, pod creation to termination; default: maxRuntimeMinutes */
  expectedRuntimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .optional(),
});

export type EstimateRequest = z.infer<typeof estimateRequestSchema>;
type PricedInput = Pick<
  EstimateRequest,
  | "gpuTypeIds"
  | "gpuCount"
  | "cloudType"
  | "maxRuntimeMinutes"
  | "maxCostUsd"
  | "setupTimeoutMinutes"
  | "expectedRuntimeMinutes"
>;

interface PricedType {
  gpuTypeId: string;
  /** micro-dollars per hour for the whole pod (price × gpuCount) */
  podHourMicros: bigint;
}

/** The listed GPU types with a known price, in the request's priority order. */
export function pricedGpuTypes(
  req: Pick<PricedInput, "gpuTypeIds" | "gpuCount" | "cloudType">,
  prices: GpuPriceList = tablePriceList,
): PricedType[] {
  const out: PricedType[] = [];
  for (const id of req.gpuTypeIds) {
    const perGpu = prices.perGpuMicros(id, req.cloudType);
    if (perGpu !== null) out.push({ gpuTypeId: id, podHourMicros: perGpu * BigInt(req.gpuCount) });
  }
  return out;
}

/** The most expensive of the priced types: RunPod may hand out any of them. */
export function priciest(types: PricedType[]): PricedType | undefined {
  return types.reduce<PricedType | undefined>(
    (max, t) => (max === undefined || t.podHourMicros > max.podHourMicros ? t : max),
    undefined,
  );
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * Expected and worst-case cost of a run, in exact micro-dollar arithmetic.
 * - expected: the first priced GPU type (RunPod tries them in the given order) for the expected
 *   runtime (default maxRuntimeMinutes, never more), capped by maxCostUsd;
 * - worst case: the most expensive listed type for maxRuntimeMinutes, capped by maxCostUsd — the
 *   monitor terminates the pod when either limit is reached;
 * - setup: what the setup timeout can cost at worst (the budget must cover it; see pre-flight).
 */
export function estimateCost(req: PricedInput, prices: GpuPriceList = tablePriceList) {
  const priced = pricedGpuTypes(req, prices);
  const first = priced[0];
  const worst = priciest(priced);
  if (first === undefined || worst === undefined) {
    throw new AppError("UNPROCESSABLE", "none of the GPU types has a known price", {
      details: { gpuTypeIds: req.gpuTypeIds },
    });
  }
  const capMicros = usdToMicros(req.maxCostUsd);
  const expectedMinutes = Math.min(req.expectedRuntimeMinutes ?? req.maxRuntimeMinutes, req.maxRuntimeMinutes);
  const expectedMicros = min(costForSeconds(first.podHourMicros, expectedMinutes * 60), capMicros);
  const uncappedWorst = costForSeconds(worst.podHourMicros, req.maxRuntimeMinutes * 60);
  const capMinutes = worst.podHourMicros === 0n ? null : Number((capMicros * 60n) / worst.podHourMicros);
  return {
    priceSource: prices.source,
    gpuCount: req.gpuCount,
    cloudType: req.cloudType,
    gpuTypes: req.gpuTypeIds.map((id) => {
      const p = priced.find((t) => t.gpuTypeId === id);
      return { gpuTypeId: id, known: p !== undefined, podHourUsd: p ? microsToUsd(p.podHourMicros) : null };
    }),
    expected: { gpuTypeId: first.gpuTypeId, runtimeMinutes: expectedMinutes, costUsd: microsToUsd(expectedMicros) },
    worstCase: {
      gpuTypeId: worst.gpuTypeId,
      runtimeMinutes: req.maxRuntimeMinutes,
      costUsd: microsToUsd(min(uncappedWorst, capMicros)),
      uncappedCostUsd: microsToUsd(uncappedWorst),
    },
    costCap: {
      maxCostUsd: microsToUsd(capMicros),
      maxRuntimeMinutes: req.maxRuntimeMinutes,
      /** which limit stops the worst-case run first */
      bindingLimit: uncappedWorst > capMicros ? ("maxCostUsd" as const) : ("maxRuntimeMinutes" as const),
      /** minutes of the priciest type until maxCostUsd is spent */
      budgetLastsMinutes: capMinutes,
    },
    setup: {
      timeoutMinutes: req.setupTimeoutMinutes,
      worstCaseCostUsd: microsToUsd(costForSeconds(worst.podHourMicros, req.setupTimeoutMinutes * 60)),
    },
  };
}

export type CostEstimate = ReturnType<typeof estimateCost>;
