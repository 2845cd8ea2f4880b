import { Prisma, type FailureReason } from "../db";
import { transition } from "../deployment/state-machine";
import { AppError } from "../errors";
import { ContractViolationError, InsufficientBalanceError, NoCapacityError } from "../runpod/errors";
import type { LifecycleDeps } from "./lifecycle-deps";

/** Marks a live deployment FAILED with a reason, and asks for its pod's termination. */
export async function failDeployment(
  deps: Pick<LifecycleDeps, "prisma" | "clock" | "jobs">,
  deploymentId: string,
  reason: FailureReason,
  message: string,
  extra: { exitCode?: number; data?: Prisma.InputJsonValue } = {},
): Promise<boolean> {
  const now = deps.clock.now();
  const ok = await transition(deps.prisma, {
    deploymentId,
    to: "FAILED",
    failureReason: reason,
    set: {
      failureMessage: message.slice(0, 20_000),
      finishedAt: now,
      ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}),
    },
    event: { type: "failed", message: `${reason}: ${message.slice(0, 500)}`, data: extra.data ?? { reason } },
  });
  if (ok) await deps.jobs.terminate(deploymentId, reason);
  return ok;
}

/**
 * Is this error a verdict, so that the job must not be tried again? Only what is known to be final: an AppError
 * that says so (`retryable: false`), or a query Prisma refused to build (a bug no retry mends). Anything else (a
 * Prisma connection, pool, lock or transaction timeout, a Redis blip, an error we do not know) is retried with
 * the job's backoff, and closes a deployment only on the job's last attempt.
 */
export function isFinalError(err: unknown): boolean {
  if (err instanceof AppError) return !err.retryable;
  return err instanceof Prisma.PrismaClientValidationError;
}

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
