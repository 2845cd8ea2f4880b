import type { Deployment, DeploymentEvent } from "../db";
import { billedSeconds, podCost } from "./cost";
import { microsToUsd } from "../pricing/money";
import { phaseView } from "./phase-view";
import { firstStepView } from "./first-step";
import { estimateView } from "../estimate/estimate-view";
import { resumeView } from "../lifecycle/resume-view";

/** The JSON a user sees of a deployment. Money as decimal strings of USD, never floats. */
export function deploymentView(d: Deployment, now: Date) {
  const end = d.podTerminatedAt ?? now;
  const cost = d.podTerminatedAt !== null && d.costMicros !== null ? d.costMicros : podCost(d, end);
  return {
    id: d.id,
    status: d.status,
    failureReason: d.failureReason,
    failureMessage: d.failureMessage,
    exitCode: d.exitCode,
    datasetId: d.datasetId,
    baseModel: d.baseModel,
    hyperparameters: d.hyperparameters,
    gpuTypeIds: d.gpuTypeIds,
    gpuCount: d.gpuCount,
    cloudType: d.cloudType,
    image: d.imageName,
    limits: {
      maxRuntimeMinutes: d.maxRuntimeMinutes,
      maxCostUsd: microsToUsd(d.maxCostMicros),
      setupTimeoutMinutes: d.setupTimeoutMinutes,
    },
    dataCenterIds: d.dataCenterIds,
    /** the names of the user's secrets the pod gets as env (never their values) */
    secrets: d.secretNames,
    pod: {
      id: d.podId,
      gpuTypeId: d.gpuTypeId,
      dataCenterId: d.dataCenterId,
      costPerHrUsd: d.costPerHrMicros === null ? null : microsToUsd(d.costPerHrMicros),
    },
    ...resultsView(d),
    progress: { step: d.progressStep, totalSteps: d.progressTotalSteps, loss: d.progressLoss?.toString() ?? null },
    phase: phaseView(d),
    /** from the pod's create to the first training step (issue 28), and its part before the pod's first report */
    timeToFirstStep: firstStepView(d),
    costUsd: cost === null ? null : microsToUsd(cost),
    runpodBill: runpodBillView(d, cost),
    runtimeSeconds: d.runtimeSeconds ?? (d.podCreatedAt ? billedSeconds(d.podCreatedAt, end) : null),
    /** the submission's estimate beside what the run measured (issue 35) */
    estimate: estimateView(d),
    attempts: d.attempts,
    retryOfId: d.retryOfId,
    /** its attempt in a chain of resumed runs (issue 27); the detail view adds every attempt's cost and savings */
    resume: resumeView(d),
    timestamps: {
      createdAt: d.createdAt,
      provisioningAt: d.provisioningAt,
      podCreatedAt: d.podCreatedAt,
      runningAt: d.runningAt,
      trainingStartedAt: d.trainingStartedAt,
      finishedAt: d.finishedAt,
      podTerminatedAt: d.podTerminatedAt,
      lastHeartbeatAt: d.lastHeartbeatAt,
    },
  };
}

/**
 * Where the results go besides trainpod (issue 25): the hub repo (its push's commit URL or error, once the pod
 * reported it) and the W&B project (its run's URL); null when not asked.
 */
export function resultsView(
  d: Pick<
    Deployment,
    "hubRepo" | "hubMerged" | "hubPushedUrl" | "hubPushError" | "wandbProject" | "wandbName" | "wandbUrl"
  >,
) {
  return {
    hub:
      d.hubRepo === null ? null : { repo: d.hubRepo, merged: d.hubMerged, url: d.hubPushedUrl, error: d.hubPushError },
    wandb: d.wandbProject === null ? null : { project: d.wandbProject, name: d.wandbName, url: d.wandbUrl },
  };
}

export function eventView(e: DeploymentEvent) {
  return { id: e.id.toString(), type: e.type, message: e.message, data: e.data, at: e.createdAt };
}

/** RunPod's own bill (read by the billing job after termination) beside trainpod's cost; null until read. */
export function runpodBillView(
  d: Pick<
    Deployment,
    "runpodBilledMicros" | "runpodGpuMicros" | "runpodCpuMicros" | "runpodDiskMicros" | "runpodBilledAt"
  >,
  ourCost: bigint | null,
) {
  if (d.runpodBilledMicros === null || d.runpodBilledAt === null) return null;
  const usd = (m: bigint | null) => (m === null ? null : microsToUsd(m));
  return {
    totalUsd: microsToUsd(d.runpodBilledMicros),
    gpuUsd: usd(d.runpodGpuMicros),
    cpuUsd: usd(d.runpodCpuMicros),
    diskUsd: usd(d.runpodDiskMicros),
    /** RunPod's bill minus trainpod's computed cost */
    differenceUsd: ourCost === null ? null : microsToUsd(d.runpodBilledMicros - ourCost),
    readAt: d.runpodBilledAt,
  };
}

/** The last `n` lines of a failure message (the pod's failed report carries its last log lines). */
export function lastLines(message: string | null, n = 5): string[] {
  return message === null
    ? []
    : message
        .split("\n")
        .filter((l) => l.trim() !== "")
        .slice(-n);
}
