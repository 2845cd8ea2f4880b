import type { PrismaClient } from "../db";
import { AppError } from "../errors";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { findDeployment } from "../deployment/admin-queries";
import type { DeploymentRequest } from "../deployment/request-schema";
import { microsToUsd } from "../pricing/money";
import { storeQueuedDeployment, type SubmitResult } from "./submit-deployment";
import type { SpendSettings } from "../spend/settings";
import type { Clock } from "../time/clock";

/** The idempotency key of the retry of `deploymentId`: a double click retries once. */
export const retryKey = (deploymentId: string) => `retry-of-${deploymentId}`;

/**
 * Retries a FAILED deployment: a new QUEUED deployment from the same request (same owner, dataset,
 * model, limits), linked by retryOfId. A second retry of the same one returns the first (created: false).
 */
export async function retryDeployment(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer; spend?: SpendSettings; clock?: Clock },
  deploymentId: string,
  by: string,
): Promise<SubmitResult> {
  const old = await findDeployment(deps.prisma, deploymentId);
  if (old.status !== "FAILED")
    throw new AppError("CONFLICT", `only a FAILED deployment can be retried; this one is ${old.status}`);
  const request: DeploymentRequest = {
    datasetId: old.datasetId,
    baseModel: old.baseModel,
    hyperparameters: old.hyperparameters as DeploymentRequest["hyperparameters"],
    gpuTypeIds: old.gpuTypeIds,
    gpuCount: old.gpuCount,
    cloudType: old.cloudType,
    image: old.imageName,
    containerDiskInGb: old.containerDiskInGb,
    volumeInGb: old.volumeInGb,
    dataCenterIds: old.dataCenterIds,
    maxRuntimeMinutes: old.maxRuntimeMinutes,
    maxCostUsd: microsToUsd(old.maxCostMicros),
    setupTimeoutMinutes: old.setupTimeoutMinutes,
  };
  const stored = await storeQueuedDeployment(deps, {
    userId: old.userId,
    request,
    idempotencyKey: retryKey(old.id),
    retryOfId: old.id,
    event: { message: `deployment queued: retry of ${old.id} by ${by}`, data: { retryOfId: old.id } },
  });
  if (!stored)
    throw new AppError(
      "CONFLICT",
      "this deployment's dataset no longer exists or no longer passes validation; it cannot be retried",
    );
  return stored;
}
