import type { Deployment } from "../db";
import { microsToUsd } from "../pricing/money";

type Columns = Pick<
  Deployment,
  | "estimatedTokens"
  | "estimatedSeconds"
  | "estimatedCostMicros"
  | "trainTokens"
  | "trainTokensPerSecond"
  | "runtimeSeconds"
  | "costMicros"
  | "podTerminatedAt"
>;

/** actual ÷ estimate − 1, 4 decimals (0.1: the run took 10 % more than estimated); null when either is missing */
const error = (estimate: number | null, actual: number | null) =>
  estimate === null || actual === null || estimate === 0 ? null : Math.round((actual / estimate - 1) * 10_000) / 10_000;

/**
 * The submission's estimate beside what the run measured (issue 35): tokens, runtime and cost, and each one's error
 * once the pod is terminated; null when the submission made no estimate.
 */
export function estimateView(d: Columns) {
  if (d.estimatedSeconds === null) return null;
  const done = d.podTerminatedAt !== null;
  const tokens = d.trainTokens === null ? null : Number(d.trainTokens);
  const seconds = done ? d.runtimeSeconds : null;
  const cost = done ? d.costMicros : null;
  const estimatedCost = d.estimatedCostMicros;
  return {
    estimated: {
      tokens: d.estimatedTokens === null ? null : Number(d.estimatedTokens),
      runtimeSeconds: d.estimatedSeconds,
      costUsd: estimatedCost === null ? null : microsToUsd(estimatedCost),
    },
    actual: {
      tokens,
      tokensPerSecond: d.trainTokensPerSecond,
      runtimeSeconds: seconds,
      costUsd: cost === null ? null : microsToUsd(cost),
    },
    error: {
      tokens: error(d.estimatedTokens === null ? null : Number(d.estimatedTokens), tokens),
      runtime: error(d.estimatedSeconds, seconds),
      cost: error(estimatedCost === null ? null : Number(estimatedCost), cost === null ? null : Number(cost)),
    },
  };
}
