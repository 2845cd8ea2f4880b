import { AppError } from "../errors";
import type { Prisma } from "../db";
import { microsToUsd } from "../pricing/money";
import { userSpend, type UserSpend } from "./month-spend";
import type { EffectiveLimits } from "./settings";

/** The figures of a budget decision, in USD strings (the API's money format). */
export interface BudgetFigures {
  limitUsd: string;
  spentUsd: string;
  /** what live deployments may still cost (their maxCostUsd minus what they have spent) */
  liveRemainingUsd: string;
  requestedUsd: string;
  availableUsd: string;
}

/** What a new deployment's maxCost may be at most now: the budget minus spent and live worst case (never below 0). */
export function availableMicros(limit: bigint, spend: UserSpend): bigint {
  const committed = spend.spentMicros + spend.liveRemainingMicros;
  return limit > committed ? limit - committed : 0n;
}

/** Could `requestMicros` more (a new deployment's maxCost) take the month over the budget? null: it fits. */
export function overBudget(limits: EffectiveLimits, spend: UserSpend, requestMicros: bigint): BudgetFigures | null {
  const limit = limits.monthlyBudgetMicros;
  if (limit <= 0n || spend.spentMicros + spend.liveRemainingMicros + requestMicros <= limit) return null;
  const available = availableMicros(limit, spend);
  return {
    limitUsd: microsToUsd(limit),
    spentUsd: microsToUsd(spend.spentMicros),
    liveRemainingUsd: microsToUsd(spend.liveRemainingMicros),
    requestedUsd: microsToUsd(requestMicros),
    availableUsd: microsToUsd(available),
  };
}

/**
 * At submit, under the user's lock: the month's recorded cost, plus every live deployment at its worst case, plus
 * this one's maxCost, must fit the budget; else 422 BUDGET_LIMIT with the figures.
 */
export async function assertBudgetAllows(
  tx: Prisma.TransactionClient,
  limits: EffectiveLimits,
  userId: string,
  requestMicros: bigint,
  now: Date,
): Promise<void> {
  if (limits.monthlyBudgetMicros <= 0n) return;
  const figures = overBudget(limits, await userSpend(tx, userId, now), requestMicros);
  if (figures) {
    throw new AppError(
      "BUDGET_LIMIT",
      `this deployment could take your spend this month over its budget: ${figures.spentUsd} spent, ${figures.liveRemainingUsd} more possible on live deployments, ${figures.requestedUsd} asked, ${figures.availableUsd} of ${figures.limitUsd} available`,
      { details: figures },
    );
  }
}
