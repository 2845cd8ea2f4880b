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
export { claimStart, oldestWaiting, type StartDecision } from "./start-slot";
export { liveDeploymentsOverBudget, type OverBudget } from "./enforce-budgets";
export { ownSpend, spendReport, type UserSpendView } from "./spend-report";
