import { AppError } from "../errors";
import type { Deployment, PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { insertDeployment } from "./insert-deployment";
import { deploymentRequestSchema } from "./request-schema";

export interface SubmitInput {
  userId: string;
  body: unknown;
  idempotencyKey?: string;
}

export interface SubmitResult {
  deployment: Deployment;
  /** false when the Idempotency-Key matched an earlier submission */
  created: boolean;
}

/** Validates, stores the deployment (QUEUED + event) and enqueues its deploy job. */
export async function submitDeployment(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer },
  input: SubmitInput,
): Promise<SubmitResult> {
  const req = deploymentRequestSchema.parse(input.body);
  const key = input.idempotencyKey;
  const deployment = await insertDeployment(deps.prisma, { userId: input.userId, request: req, idempotencyKey: key });
  if (!deployment) {
    // Nothing written: either this Idempotency-Key was used before, or the dataset is not the user's.
    if (key !== undefined) {
      const earlier = await deps.prisma.deployment.findUnique({ where: { userId_idempotencyKey: { userId: input.userId, idempotencyKey: key } } });
      if (earlier) return { deployment: earlier, created: false };
    }
    throw new AppError("NOT_FOUND", "dataset not found", { details: { datasetId: req.datasetId } });
  }
  // If this add fails the row stays QUEUED; the monitor re-enqueues stale QUEUED deployments (same job id).
  await deps.jobs.deploy(deployment.id);
  return { deployment, created: true };
}
