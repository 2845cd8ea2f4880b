import { AppError } from "../errors";
import { updateWithEvent } from "../deployment/state-machine";
import { usdToMicrosExact, type PodBillingRecord } from "../runpod";
import type { LifecycleDeps } from "./lifecycle-deps";

export type BillingOutcome = "recorded" | "already-recorded" | "no-pod";

export interface BillingSettings {
  /** |RunPod's bill − trainpod's cost| above this is a warning (metric, dashboard) */
  mismatchThresholdMicros: bigint;
  /** the job's attempt, from 1, and how many it has: the last one records what RunPod has */
  attempt: number;
  maxAttempts: number;
}

export interface RunPodBill {
  totalMicros: bigint;
  gpuMicros: bigint;
  cpuMicros: bigint;
  diskMicros: bigint;
}

/** Adds up RunPod's records, each amount converted exactly from its decimal form (never float sums). */
export function sumBill(records: readonly PodBillingRecord[]): RunPodBill {
  const sum = (pick: (r: PodBillingRecord) => number): bigint =>
    records.reduce((acc, r) => acc + usdToMicrosExact(Math.max(0, pick(r))), 0n);
  return {
    totalMicros: sum((r) => r.totalAmount),
    gpuMicros: sum((r) => r.gpuAmount),
    cpuMicros: sum((r) => r.cpuAmount),
    diskMicros: sum((r) => r.diskAmount),
  };
}

const HOUR_MS = 3_600_000;

/**
 * Is RunPod's bill still catching up? Our cost runs from just before the create to the DELETE, so it is
 * rightly a few seconds above RunPod's; a bill short by more than that (ten seconds of price, or a tenth
 * of our cost) looks like lag, and is read again later rather than recorded as a difference.
 */
export function isBehind(runpodMicros: bigint, ourMicros: bigint, perHourMicros: bigint): boolean {
  const tenSeconds = (perHourMicros * 10n) / 3600n + 1n;
  const tenth = ourMicros / 10n;
  return ourMicros - runpodMicros > (tenSeconds > tenth ? tenSeconds : tenth);
}

/**
 * Do RunPod's records reach the pod's termination? Each record is one bucket [startTime, endTime); the pod's last
 * billed second lies in the bucket holding its end, so that bucket must be in the answer. The end is taken at its
 * earliest: the first DELETE (`terminateRequestedAt`), or the confirmed termination. No record at all: not yet.
 */
export function reachesTermination(records: readonly PodBillingRecord[], end: Date): boolean {
  return records.some((r) => Date.parse(r.endTime) >= end.getTime());
}

/**
 * The billing job: reads RunPod's own bill of a closed deployment's pod (GET /v2/billing/pods,
 * hourly buckets around the pod's life) and records it beside trainpod's computed cost. RunPod's
 * billing lags, so a read is final only when its records reach the pod's termination (reachesTermination) and
 * the bill is not clearly short of our cost (isBehind); otherwise the job reads again later (BullMQ backoff over
 * hours), and its last attempt records whatever RunPod has. A difference over the threshold is logged and counted.
 */
export async function billPod(deps: LifecycleDeps, deploymentId: string, s: BillingSettings): Promise<BillingOutcome> {
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId } });
  if (!d) throw new AppError("NOT_FOUND", `deployment ${deploymentId} does not exist`);
  if (d.runpodBilledAt !== null) return "already-recorded";
  if (d.podId === null || d.podCreatedAt === null) return "no-pod";
  if (d.podTerminatedAt === null)
    throw new AppError("CONFLICT", `deployment ${deploymentId}'s pod is not terminated yet`, { retryable: true });
  const startTime = new Date(Math.floor(d.podCreatedAt.getTime() / HOUR_MS) * HOUR_MS);
  const endTime = new Date(Math.ceil((d.podTerminatedAt.getTime() + 1) / HOUR_MS) * HOUR_MS);
  const records = await deps.runpod.podBilling({ podId: d.podId, startTime, endTime, bucketSize: "hour" });
  const bill = sumBill(records);
  const ours = d.costMicros ?? 0n;
  const reached = reachesTermination(records, d.terminateRequestedAt ?? d.podTerminatedAt);
  if ((!reached || isBehind(bill.totalMicros, ours, d.costPerHrMicros ?? 0n)) && s.attempt < s.maxAttempts) {
    const why = reached ? `is behind trainpod's cost (${ours} µ$)` : `has no record reaching the pod's termination`;
    throw new AppError(
      "RUNPOD_UNAVAILABLE",
      `RunPod's bill for pod ${d.podId} (${bill.totalMicros} µ$) ${why}: billing lags, read again later`,
      { retryable: true },
    );
  }
  const difference = bill.totalMicros - ours;
  const mismatch = (difference < 0n ? -difference : difference) > s.mismatchThresholdMicros;
  const now = deps.clock.now();
  const recorded = await updateWithEvent(
    deps.prisma,
    { id: d.id, runpodBilledAt: null },
    {
      runpodBilledMicros: bill.totalMicros,
      runpodGpuMicros: bill.gpuMicros,
      runpodCpuMicros: bill.cpuMicros,
      runpodDiskMicros: bill.diskMicros,
      runpodBilledAt: now,
    },
    {
      type: "runpod_billed",
      message: `RunPod billed ${bill.totalMicros} µ$ for pod ${d.podId} (trainpod computed ${ours} µ$, difference ${difference} µ$)${mismatch ? ": over the threshold" : ""}`,
      data: {
        podId: d.podId,
        runpodMicros: bill.totalMicros.toString(),
        ourMicros: ours.toString(),
        differenceMicros: difference.toString(),
        mismatch,
      },
    },
  );
  if (!recorded) return "already-recorded";
  if (mismatch) {
    deps.logger.warn("RunPod's bill differs from trainpod's cost", {
      deploymentId,
      podId: d.podId,
      runpodMicros: bill.totalMicros.toString(),
      ourMicros: ours.toString(),
    });
    deps.onAction?.("billing_mismatch", "");
  }
  return "recorded";
}
