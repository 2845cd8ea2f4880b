import type { Deployment, PrismaClient } from "../db";
import { AppError } from "../errors";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { findDeployment } from "../deployment/admin-queries";
import { assertPreflight, checkRequestRules, type PreflightContext } from "../deployment/preflight";
import { microsToUsd } from "../pricing/money";
import type { Logger } from "../logging";
import type { SpendSettings } from "../spend/settings";
import { effectiveLimits } from "../spend/user-limits";
import type { Clock } from "../time/clock";
import { requestOf } from "./retry-deployment";
import { latestCheckpointOfChain } from "./resume-checkpoints";
import { autoResumeVerdict, RESUMABLE_STATUSES, type AttemptFacts } from "./resume-rules";
import { storeQueuedDeployment, type SubmitResult } from "./submit-deployment";

/** The idempotency key of the attempt that resumes `deploymentId`: one resume of each, however often asked. */
export const resumeKey = (deploymentId: string) => `resume-of-${deploymentId}`;

export interface ResumeDeps {
  prisma: PrismaClient;
  jobs: JobEnqueuer;
  clock?: Clock;
  spend?: SpendSettings;
  /** the rules a submission passes, as they stand now (the API's resume); absent (the worker's automatic one): the
   * request was accepted already and only the budget is checked again */
  preflight?: PreflightContext;
}

/**
 * Resumes an ended deployment (FAILED or CANCELLED, its pod terminated) from the last checkpoint of its chain: a new
 * deployment (the linked design: its own pod, cost and events), `resumeOfId` the interrupted one, `attempt` one
 * more, `resumedFromStep`/`resumedFromPath` the checkpoint, which its pod downloads with its own run token
 * (GET /v1/runs/:id/resume). Same request, except maxCost: what the interrupted attempt left of its own. A second
 * resume of the same deployment answers the first (created: false). CONFLICT when it cannot be resumed, with why.
 */
export async function resumeDeployment(deps: ResumeDeps, deploymentId: string, by: string): Promise<SubmitResult> {
  const old = await findDeployment(deps.prisma, deploymentId);
  const earlier = await deps.prisma.deployment.findUnique({
    where: { userId_idempotencyKey: { userId: old.userId, idempotencyKey: resumeKey(old.id) } },
  });
  if (earlier) return { deployment: earlier, created: false };
  if (!RESUMABLE_STATUSES.includes(old.status))
    throw new AppError(
      "CONFLICT",
      `only an ended deployment (FAILED or CANCELLED) can be resumed; this one is ${old.status}`,
      { details: { status: old.status } },
    );
  if (old.podTerminatedAt === null)
    throw new AppError("CONFLICT", "its pod is still being terminated; resume it once the pod is gone (seconds)", {
      retryable: true,
    });
  const found = await latestCheckpointOfChain(deps.prisma, old);
  if (found === null)
    throw new AppError(
      "CONFLICT",
      "no checkpoint to resume from: the run stopped before its first checkpoint was stored (retry it instead)",
    );
  const left = old.maxCostMicros - (old.costMicros ?? 0n);
  if (left <= 0n)
    throw new AppError("CONFLICT", `the run spent its maxCost ($${microsToUsd(old.maxCostMicros)}) already`);
  const request = { ...requestOf(old), maxCostUsd: microsToUsd(left) };
  const limits = deps.spend ? await effectiveLimits(deps.prisma, deps.spend, old.userId) : undefined;
  if (deps.preflight) assertPreflight(checkRequestRules(request, deps.preflight, limits));
  const { step, path } = found.checkpoint;
  const stored = await storeQueuedDeployment(
    deps,
    {
      userId: old.userId,
      request,
      idempotencyKey: resumeKey(old.id),
      resume: { ofId: old.id, attempt: old.attempt + 1, fromStep: step, fromPath: path },
      // the hub pre-flight's answer for this run (its model may share the cache volume's HF cache) holds for it still
      modelShareable: old.modelShareable,
      event: {
        message: `deployment queued: attempt ${old.attempt + 1}, resumes ${old.id} from ${path} (step ${step}) by ${by}`,
        data: { resumeOfId: old.id, resumedFromStep: step, resumedFromPath: path, checkpointOf: found.deploymentId },
      },
    },
    limits,
  );
  if (!stored)
    throw new AppError("CONFLICT", "this deployment's dataset no longer exists or no longer passes validation");
  return stored;
}

/** The attempts before `d`, oldest first. */
async function earlierAttempts(prisma: PrismaClient, d: Deployment): Promise<AttemptFacts[]> {
  const out: AttemptFacts[] = [];
  let id = d.resumeOfId;
  for (let hops = 0; id !== null && hops < 100; hops++) {
    const a = await prisma.deployment.findUnique({ where: { id } });
    if (!a) break;
    out.unshift(a);
    id = a.resumeOfId;
  }
  return out;
}

/**
 * The worker's automatic resume (autoResume), once an attempt's pod termination is recorded, so that a single pod
 * is live at any time: a new attempt when the failure was the pod's (resume-rules.ts) and a checkpoint exists.
 * Never throws for a deployment it does not resume (logged); safe to call again (one resume of each).
 */
export async function resumeAfterPodLoss(
  deps: ResumeDeps & { logger: Logger },
  deploymentId: string,
): Promise<Deployment | null> {
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId } });
  if (!d || d.autoResumeMaxAttempts <= 0 || d.podTerminatedAt === null) return null;
  const verdict = autoResumeVerdict(d, await earlierAttempts(deps.prisma, d));
  if (!verdict.resume) {
    if (d.status === "FAILED") deps.logger.info("not resumed", { deploymentId, why: verdict.why });
    return null;
  }
  try {
    const { deployment, created } = await resumeDeployment(deps, d.id, `autoResume (${verdict.why})`);
    if (created)
      deps.logger.info("resumed automatically", {
        deploymentId,
        resumedBy: deployment.id,
        attempt: deployment.attempt,
        fromStep: deployment.resumedFromStep,
        why: verdict.why,
      });
    return deployment;
  } catch (err) {
    if (err instanceof AppError && !err.retryable) {
      deps.logger.info("not resumed", { deploymentId, why: err.message });
      return null;
    }
    throw err;
  }
}
