export {
  imageAllowed,
  spendSettingsFromEnv,
  type EffectiveLimits,
  type OnExceed,
  type SpendSettings,
} from "./settings";
export {
  effectiveLimits,
  effectiveLimitsOf,
  setUserLimits,
  userLimitsInputSchema,
  type UserLimitsInput,
} from "./user-limits";
export { monthStart, userSpend, withUserLock, type UserSpend } from "./month-spend";
export { assertBudgetAllows, overBudget, type BudgetFigures } from "./budget";
export { claimStart, slotShortfall, type StartDecision } from "./start-slot";
export { UserLimitsCache, type UserLimitsCacheOptions } from "./user-limits-cache";
export { waitingToWake, wakeWaiting, type WakeOptions } from "./wake-waiting";
export { liveDeploymentsOverBudget, type OverBudget } from "./enforce-budgets";
export { ownSpend, spendReport, type UserSpendView } from "./spend-report";
