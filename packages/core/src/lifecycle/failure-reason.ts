import type { FailureReason } from "../db";
import { AppError } from "../errors";
import { ContractViolationError, InsufficientBalanceError, NoCapacityError } from "../runpod";

/** Why a deploy that will not be tried again failed, from its last error. */
export function failureReasonOf(err: unknown): FailureReason {
  if (err instanceof InsufficientBalanceError) return "INSUFFICIENT_BALANCE";
  if (err instanceof NoCapacityError) return "NO_CAPACITY";
  if (err instanceof AppError && err.code.startsWith("RUNPOD_")) return "RUNPOD_API_ERROR";
  return "INTERNAL_ERROR";
}

/** What the failure keeps of the error: RunPod's list of violations for a 422 (a contract bug to fix). */
export function failureDataOf(err: unknown, reason: FailureReason): Record<string, string | string[]> {
  if (err instanceof ContractViolationError) return { reason, runpodErrors: err.violations };
  return { reason };
}
