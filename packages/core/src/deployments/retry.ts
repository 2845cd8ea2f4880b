import { z } from "zod";
import type { Deployment, Prisma, PrismaClient } from "../db";
import { AppError } from "../errors";
import type { JobEnqueuer } from "../jobs/enqueuer";
import { microsToUsd, type DeploymentRequest } from "./request-schema";
import { storeQueuedDeployment, type SubmitResult } from "./submit";
import type { SpendSettings } from "../spend/settings";
import type { Clock } from "../time/clock";

/** The idempotency key of the retry of `deploymentId`: a double click retries once. */
export const retryKey = (deploymentId: string) => `retry-of-${deploymentId}`;

/**
 * Retries a FAILED deployment: a new QUEUED deployment from the same request (same owner, dataset,
 * model, limits), linked by retryOfId. A second retry of the same one returns the first (created: false).
 */
export async function retryDeployment(deps: { prisma: PrismaClient; jobs: JobEnqueuer; spend?: SpendSettings; clock?: Clock }, deploymentId: string, by: string): Promise<SubmitResult> {
  const old = await findDeployment(deps.prisma, deploymentId);
  if (old.status !== "FAILED") throw new AppError("CONFLICT", `only a FAILED deployment can be retried; this one is ${old.status}`);
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
  if (!stored) throw new AppError("CONFLICT", "this deployment's dataset no longer exists or no longer passes validation; it cannot be retried");
  return stored;
}

/** Any user's deployment (admin use); an unknown or malformed id answers NOT_FOUND. */
export async function findDeployment(prisma: PrismaClient, id: string): Promise<Deployment> {
  const d = z.string().uuid().safeParse(id).success ? await prisma.deployment.findUnique({ where: { id } }) : null;
  if (!d) throw new AppError("NOT_FOUND", "deployment not found");
  return d;
}

export const adminListQuerySchema = z
  .object({
    status: z.enum(["QUEUED", "PROVISIONING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "LIVE"]).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** Every user's deployments, newest first (the dashboard's tables). LIVE = queued, provisioning or running. */
export async function listAllDeployments(prisma: PrismaClient, query: unknown): Promise<Deployment[]> {
  const q = adminListQuerySchema.parse(query);
  const status = q.status === "LIVE" ? { in: ["QUEUED", "PROVISIONING", "RUNNING"] as const } : q.status;
  return prisma.deployment.findMany({
    where: status ? { status: status as Prisma.DeploymentWhereInput["status"] } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: q.limit,
  });
}

/** The last `n` lines of a failure message (the pod's failed report carries its last log lines). */
export function lastLines(message: string | null, n = 5): string[] {
  return message === null ? [] : message.split("\n").filter((l) => l.trim() !== "").slice(-n);
}
