import { AppError } from "../errors";
import type { Deployment, PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { insertDeployment, type InsertDeploymentInput } from "../deployment/insert-deployment";
import {
  assertPreflight,
  checkRequestRules,
  modelPreflight,
  preflight,
  userLimitsFor,
  type PreflightContext,
} from "../deployment/preflight";
import { assertHyperparameters } from "../deployment/hyperparameters";
import { submittedEvent } from "../hub/model-preflight";
import { deploymentRequestSchema, type DeploymentRequest } from "../deployment/request-schema";
import { usdToMicros } from "../pricing/money";
import { assertBudgetAllows } from "../spend/budget";
import { withUserLock } from "../spend/month-spend";
import type { EffectiveLimits, SpendSettings } from "../spend/settings";
import { effectiveLimits } from "../spend/user-limits";
import { systemClock, type Clock } from "../time/clock";

export interface SubmitInput {
  userId: string;
  body: unknown;
  /** the body as parseDeploymentRequest answered it, when the caller checked it already */
  request?: DeploymentRequest;
  idempotencyKey?: string;
}

/**
 * A submission's body checked and parsed; the 4xx otherwise: bad hyperparameters are their 422 with every problem
 * listed (assertHyperparameters) ahead of the schema's 400. A body that parses is checked once (the schema holds the
 * hyperparameters' own).
 */
export function parseDeploymentRequest(body: unknown): DeploymentRequest {
  const parsed = deploymentRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  assertHyperparameters(body);
  throw parsed.error;
}

export interface SubmitResult {
  deployment: Deployment;
  /** false when the Idempotency-Key matched an earlier submission */
  created: boolean;
}

/**
 * Validates (schema, then every pre-flight check at once), stores the deployment (QUEUED + event) and
 * enqueues its deploy job. The common case is one statement: the pure checks pass and the INSERT itself
 * checks the dataset (the user's, validated) and the Idempotency-Key. Only when it writes nothing do we
 * look closer: an earlier submission with the same key, or the full pre-flight report (422).
 */
export async function submitDeployment(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer; preflight: PreflightContext; clock?: Clock },
  input: SubmitInput,
): Promise<SubmitResult> {
  const req = input.request ?? parseDeploymentRequest(input.body);
  const key = input.idempotencyKey;
  const spend = deps.preflight.spend;
  // the model pre-flight (hub access, GPU memory) before anything is written: only the GPU types that hold the run
  // are stored, so the deploy job never tries the others
  const [limits, model] = await Promise.all([
    userLimitsFor(deps.prisma, deps.preflight, input.userId),
    modelPreflight(deps.preflight, input.userId, req),
  ]);
  const request = { ...req, gpuTypeIds: model.gpuTypeIds };
  if (model.problems.length === 0 && checkRequestRules(request, deps.preflight, limits).length === 0) {
    const stored = await storeQueuedDeployment(
      { ...deps, spend },
      {
        userId: input.userId,
        request,
        idempotencyKey: key,
        event: submittedEvent(model),
        modelShareable: model.shareable === true,
      },
      limits,
    );
    if (stored) return stored;
  } else {
    const earlier = await earlierSubmission(deps, input.userId, key);
    if (earlier) return { deployment: earlier, created: false };
  }
  assertPreflight(await preflight(deps.prisma, deps.preflight, input.userId, req, model));
  // every check passes now, yet the INSERT wrote nothing: the dataset changed in between
  throw new AppError(
    "CONFLICT",
    "the deployment could not be stored because its dataset changed meanwhile; submit it again",
  );
}

/**
 * Stores a QUEUED deployment (insertDeployment) and enqueues its deploy job; or answers the earlier
 * deployment with the same Idempotency-Key (created: false); null when neither (the dataset is missing,
 * someone else's or not validated).
 */
export async function storeQueuedDeployment(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer; spend?: SpendSettings; clock?: Clock },
  input: InsertDeploymentInput,
  /** the user's limits when the caller has read them already */
  known?: EffectiveLimits,
): Promise<SubmitResult | null> {
  const limits = deps.spend && (known ?? (await effectiveLimits(deps.prisma, deps.spend, input.userId)));
  const deployment =
    limits !== undefined && limits.monthlyBudgetMicros > 0n
      ? await insertWithinBudget(deps, input, limits)
      : await insertDeployment(deps.prisma, input);
  if (deployment) {
    // If this add fails the row stays QUEUED; the monitor re-enqueues stale QUEUED deployments (same job id).
    await deps.jobs.deploy(deployment.id);
    return { deployment, created: true };
  }
  const earlier = await earlierSubmission(deps, input.userId, input.idempotencyKey);
  return earlier ? { deployment: earlier, created: false } : null;
}

/**
 * Under the user's lock (two submissions at once cannot both take the last of the budget): the month's spend
 * and this deployment's maxCost must fit the budget, then the INSERT. One transaction; `limits` as the caller
 * read them (a cached read: an admin's change applies within the cache's time).
 */
function insertWithinBudget(
  deps: { prisma: PrismaClient; clock?: Clock },
  input: InsertDeploymentInput,
  limits: EffectiveLimits,
): Promise<Deployment | null> {
  return withUserLock(deps.prisma, input.userId, async (tx) => {
    // a repeated Idempotency-Key answers the earlier deployment, whatever the budget says now
    if (
      input.idempotencyKey !== undefined &&
      (await tx.deployment.findUnique({
        where: { userId_idempotencyKey: { userId: input.userId, idempotencyKey: input.idempotencyKey } },
        select: { id: true },
      }))
    )
      return null;
    const now = (deps.clock ?? systemClock).now();
    await assertBudgetAllows(tx, limits, input.userId, usdToMicros(input.request.maxCostUsd), now);
    return insertDeployment(tx, input);
  });
}

/**
 * The deployment an earlier submission with this Idempotency-Key stored. If it is still QUEUED with
 * no pod, its deploy job is enqueued again (same job id: never a second one): a client retrying after
 * a failed enqueue (Redis down) gets its run started now instead of at the monitor's requeue.
 */
async function earlierSubmission(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer },
  userId: string,
  key: string | undefined,
): Promise<Deployment | null> {
  if (key === undefined) return null;
  const earlier = await deps.prisma.deployment.findUnique({
    where: { userId_idempotencyKey: { userId, idempotencyKey: key } },
  });
  if (earlier?.status === "QUEUED" && earlier.podId === null) await deps.jobs.deploy(earlier.id);
  return earlier;
}
