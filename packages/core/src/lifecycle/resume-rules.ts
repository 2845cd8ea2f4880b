import type { Deployment, DeploymentStatus, FailureReason } from "../db";

/** The statuses a deployment can be resumed from: it ended without finishing (its pod is gone or going). */
export const RESUMABLE_STATUSES: readonly DeploymentStatus[] = ["FAILED", "CANCELLED"];

/** Failures that are the pod's, not the trainer's: an automatic resume (autoResume) follows them. */
export const POD_FAILURES: readonly FailureReason[] = ["POD_VANISHED", "POD_ERROR", "HEARTBEAT_TIMEOUT"];

/** the trainer's exit codes (pod-agent vocabulary.py): bad hyperparameters or rows, out of memory */
const EXIT_BAD_INPUT = 2;
const EXIT_OUT_OF_MEMORY = 3;

export type AttemptFacts = Pick<
  Deployment,
  "status" | "failureReason" | "exitCode" | "progressStep" | "attempt" | "autoResumeMaxAttempts"
>;

/**
 * Whether an ended attempt is resumed automatically, and why not (issue 27). `chain`: the earlier attempts, oldest
 * first. Only with autoResume and attempts left; only for the pod's failures (POD_VANISHED, RunPod ERROR,
 * HEARTBEAT_TIMEOUT), "no capacity" for an attempt that replaces a lost pod, and one out of memory (a new GPU may
 * fit); never for the user's own: bad input (exit 2), out of memory twice at the same step, a trainer error, a
 * cancel, a budget or runtime limit.
 */
export function autoResumeVerdict(d: AttemptFacts, chain: readonly AttemptFacts[]): { resume: boolean; why: string } {
  if (d.autoResumeMaxAttempts <= 0) return { resume: false, why: "autoResume is off" };
  if (d.attempt >= d.autoResumeMaxAttempts)
    return { resume: false, why: `all ${d.autoResumeMaxAttempts} attempts were made` };
  if (d.status !== "FAILED" || d.failureReason === null) return { resume: false, why: `it ended ${d.status}` };
  const reason = d.failureReason;
  if (POD_FAILURES.includes(reason)) return { resume: true, why: `the pod failed (${reason})` };
  if (reason === "NO_CAPACITY" && d.attempt > 1)
    return { resume: true, why: "no capacity for the attempt that replaced a lost pod" };
  if (reason === "TRAINING_FAILED" && d.exitCode === EXIT_OUT_OF_MEMORY) {
    const again = chain.some(
      (a) =>
        a.failureReason === "TRAINING_FAILED" && a.exitCode === EXIT_OUT_OF_MEMORY && a.progressStep === d.progressStep,
    );
    return again
      ? { resume: false, why: `out of memory twice at step ${d.progressStep ?? 0}: the configuration's` }
      : { resume: true, why: "out of memory once (another GPU may hold it)" };
  }
  if (reason === "TRAINING_FAILED" && d.exitCode === EXIT_BAD_INPUT)
    return { resume: false, why: "bad hyperparameters or rows (exit 2): the user's" };
  return { resume: false, why: `${reason} is not the pod's failure` };
}

export type AttemptCost = Pick<
  Deployment,
  "id" | "attempt" | "resumedFromStep" | "progressStep" | "costMicros" | "status"
> & { cost: bigint | null };

/**
 * What a resumed attempt saved against starting over: the steps it did not train again (its resumedFromStep),
 * priced at what a step cost the attempt whose checkpoint it took (that attempt's cost over the steps it trained,
 * its setup included). Integer micro-dollars; 0 for a first attempt or one whose source trained nothing.
 */
export function savedMicros(attempt: AttemptCost, source: AttemptCost | undefined): bigint {
  const skipped = attempt.resumedFromStep ?? 0;
  if (skipped <= 0 || source === undefined || source.cost === null) return 0n;
  const trained = (source.progressStep ?? 0) - (source.resumedFromStep ?? 0);
  if (trained <= 0) return 0n;
  return (source.cost * BigInt(skipped)) / BigInt(trained);
}
