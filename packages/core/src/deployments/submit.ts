import { AppError } from "../errors";
import type { Deployment, PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { deploymentRequestSchema, usdToMicros } from "./request-schema";

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

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "P2002";
}

/** Validates, stores the deployment (QUEUED + event) and enqueues its deploy job. */
export async function submitDeployment(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer },
  input: SubmitInput,
): Promise<SubmitResult> {
  const req = deploymentRequestSchema.parse(input.body);
  const key = input.idempotencyKey;
  if (key !== undefined) {
    const existing = await deps.prisma.deployment.findUnique({ where: { userId_idempotencyKey: { userId: input.userId, idempotencyKey: key } } });
    if (existing) {
      // a retry after a failed enqueue (Redis down) puts the job in now instead of waiting for the monitor
      if (existing.status === "QUEUED" && existing.podId === null) await deps.jobs.deploy(existing.id);
      return { deployment: existing, created: false };
    }
  }
  const dataset = await deps.prisma.dataset.findFirst({ where: { id: req.datasetId, userId: input.userId }, select: { id: true } });
  if (!dataset) throw new AppError("NOT_FOUND", "dataset not found", { details: { datasetId: req.datasetId } });
  let deployment: Deployment;
  try {
    deployment = await deps.prisma.deployment.create({
      data: {
        userId: input.userId,
        datasetId: req.datasetId,
        idempotencyKey: key,
        baseModel: req.baseModel,
        hyperparameters: req.hyperparameters,
        gpuTypeIds: req.gpuTypeIds,
        gpuCount: req.gpuCount,
        cloudType: req.cloudType,
        imageName: req.image,
        containerDiskInGb: req.containerDiskInGb,
        volumeInGb: req.volumeInGb,
        maxRuntimeMinutes: req.maxRuntimeMinutes,
        maxCostMicros: usdToMicros(req.maxCostUsd),
        setupTimeoutMinutes: req.setupTimeoutMinutes,
        events: { create: { type: "submitted", message: "deployment queued" } },
      },
    });
  } catch (err) {
    if (key !== undefined && isUniqueViolation(err)) {
      const winner = await deps.prisma.deployment.findUniqueOrThrow({ where: { userId_idempotencyKey: { userId: input.userId, idempotencyKey: key } } });
      return { deployment: winner, created: false };
    }
    throw err;
  }
  // If this add fails the row stays QUEUED; the monitor re-enqueues stale QUEUED deployments (same job id).
  await deps.jobs.deploy(deployment.id);
  return { deployment, created: true };
}
