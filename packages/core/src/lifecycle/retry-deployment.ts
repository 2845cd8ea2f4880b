import type { CloudType, Deployment, PrismaClient } from "../db";
import { AppError } from "../errors";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { findDeployment } from "../deployment/admin-queries";
import { assertHyperparameters } from "../deployment/hyperparameters";
import { assertPreflight, checkRequestRules, type PreflightContext } from "../deployment/preflight";
import { deploymentRequestSchema, type DeploymentRequest } from "../deployment/request-schema";
import type { GpuPriceList } from "../pricing/price-list";
import { microsToUsd } from "../pricing/money";
import { effectiveLimits } from "../spend/user-limits";
import { storeQueuedDeployment, type SubmitResult } from "./submit-deployment";
import { unknownSecretProblems } from "../secrets/secret-rules";
import type { Clock } from "../time/clock";
import { isTerminal } from "../deployment/state-machine";

/** The idempotency key of the retry of `deploymentId`: a double click retries once. */
export const retryKey = (deploymentId: string) => `retry-of-${deploymentId}`;

export interface RetryDeps {
  prisma: PrismaClient;
  jobs: JobEnqueuer;
  clock?: Clock;
  /** the rules a submission passes (spend rules included): a retry passes the same, as they stand now */
  preflight: PreflightContext;
  /** GPU list prices for a cloud and count, as a submission reads them (default: preflight.prices) */
  prices?: (cloud: CloudType, count: number) => Promise<GpuPriceList>;
}

/**
 * Retries a FAILED deployment: a new QUEUED deployment from the same request (same owner, dataset, model, limits),
 * linked by retryOfId. It is a submission of the owner's, so it passes every rule a submission passes as they stand
 * at the retry (issue 34): today's request schema and hyperparameter rules, the image's grammar and allowlist (the
 * owner's patterns), the caps, the GPU types, the budget. A second retry of the same one returns the first
 * (created: false), whatever the rules say by then, as a repeated Idempotency-Key does.
 */
export async function retryDeployment(deps: RetryDeps, deploymentId: string, by: string): Promise<SubmitResult> {
  const old = await findDeployment(deps.prisma, deploymentId);
  if (old.status !== "FAILED")
    throw new AppError("CONFLICT", `only a FAILED deployment can be retried; this one is ${old.status}`);
  const request = requestOf(old);
  const live = await liveLaterAttempt(deps.prisma, old.id);
  if (live !== null) {
    const earlier = await deps.prisma.deployment.findUnique({
      where: { userId_idempotencyKey: { userId: old.userId, idempotencyKey: retryKey(old.id) } },
    });
    if (earlier) return { deployment: earlier, created: false };
    throw new AppError(
      "CONFLICT",
      `this run goes on already: its attempt ${live.id} (${live.status}), which resumed it, is live; a retry now would run the job on two pods`,
      { details: { liveAttemptId: live.id, status: live.status } },
    );
  }
  const spend = deps.preflight.spend;
  const limits = spend ? await effectiveLimits(deps.prisma, spend, old.userId) : undefined;
  const prices = deps.prices ? { prices: await deps.prices(request.cloudType, request.gpuCount) } : {};
  const problems = [
    ...checkRequestRules(request, { ...deps.preflight, ...prices }, limits),
    ...(await unknownSecretProblems(deps.prisma, old.userId, request)),
  ];
  if (problems.length > 0) {
    const earlier = await deps.prisma.deployment.findUnique({
      where: { userId_idempotencyKey: { userId: old.userId, idempotencyKey: retryKey(old.id) } },
    });
    if (earlier) return { deployment: earlier, created: false };
    assertPreflight(problems);
  }
  const stored = await storeQueuedDeployment(
    { ...deps, spend },
    {
      userId: old.userId,
      request,
      idempotencyKey: retryKey(old.id),
      retryOfId: old.id,
      event: { message: `deployment queued: retry of ${old.id} by ${by}`, data: { retryOfId: old.id } },
      // the hub's answer of the submission (public and ungated) stands for the same model
      modelShareable: old.modelShareable,
    },
    limits,
  );
  if (!stored)
    throw new AppError(
      "CONFLICT",
      "this deployment's dataset no longer exists or no longer passes validation; it cannot be retried",
    );
  return stored;
}

/**
 * A later attempt of `deploymentId`'s resume chain (issue 27: resumeOfId, the automatic resume's) that is live (not
 * ended, or its pod not yet terminated), or null. Walked forward one generation a query (a chain is a few attempts).
 */
export async function liveLaterAttempt(
  prisma: PrismaClient,
  deploymentId: string,
): Promise<Pick<Deployment, "id" | "status"> | null> {
  let ids = [deploymentId];
  for (let hops = 0; ids.length > 0 && hops < 100; hops++) {
    const next = await prisma.deployment.findMany({
      where: { resumeOfId: { in: ids } },
      select: { id: true, status: true, podId: true, podTerminatedAt: true },
    });
    const live = next.find((a) => !isTerminal(a.status) || (a.podId !== null && a.podTerminatedAt === null));
    if (live) return { id: live.id, status: live.status };
    ids = next.map((a) => a.id);
  }
  return null;
}

/** The stored request, through today's request schema (a 422 listing what it no longer passes). */
export function requestOf(old: Deployment): DeploymentRequest {
  const stored = {
    datasetId: old.datasetId,
    baseModel: old.baseModel,
    hyperparameters: old.hyperparameters,
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
    secrets: old.secretNames,
    ...(old.hubRepo !== null ? { hub: { repo: old.hubRepo, merged: old.hubMerged } } : {}),
    ...(old.wandbProject !== null
      ? { wandb: { project: old.wandbProject, ...(old.wandbName !== null ? { name: old.wandbName } : {}) } }
      : {}),
    cache: old.cacheMode,
    ...(old.autoResumeMaxAttempts > 0 ? { autoResume: { maxAttempts: old.autoResumeMaxAttempts } } : {}),
  };
  assertHyperparameters(stored);
  const parsed = deploymentRequestSchema.safeParse(stored);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new AppError(
    "UNPROCESSABLE",
    `the deployment's request no longer passes the request rules: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`.slice(
      0,
      1000,
    ),
    { details: { problems } },
  );
}
