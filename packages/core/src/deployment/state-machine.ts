import type { DeploymentStatus, FailureReason, Prisma, PrismaClient } from "../db";
import { DeploymentStatus as StatusEnum } from "../generated/prisma/enums";

/** Every status, in the schema's order (Prisma's enum: prisma/schema.prisma). */
export const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = Object.values(StatusEnum);

const ALLOWED: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  QUEUED: ["PROVISIONING", "FAILED", "CANCELLED"],
  PROVISIONING: ["RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"],
  RUNNING: ["SUCCEEDED", "FAILED", "CANCELLED"],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
};

/** The outcomes: the statuses nothing leaves (SUCCEEDED, FAILED, CANCELLED). */
export const TERMINAL_STATUSES: readonly DeploymentStatus[] = DEPLOYMENT_STATUSES.filter(
  (s) => ALLOWED[s].length === 0,
);
/** The others: queued, provisioning or running. */
export const LIVE_STATUSES: readonly DeploymentStatus[] = DEPLOYMENT_STATUSES.filter((s) => ALLOWED[s].length > 0);

export function isTerminal(status: DeploymentStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The statuses from which `to` may be reached. */
export function sourcesOf(to: DeploymentStatus): DeploymentStatus[] {
  return (Object.keys(ALLOWED) as DeploymentStatus[]).filter((from) => ALLOWED[from].includes(to));
}

export interface TransitionInput {
  deploymentId: string;
  to: DeploymentStatus;
  /** only from these statuses (default: every status allowed to reach `to`) */
  from?: DeploymentStatus[];
  set?: Omit<Prisma.DeploymentUpdateManyMutationInput, "status">;
  failureReason?: FailureReason;
  event: { type: string; message?: string; data?: Prisma.InputJsonValue };
}

/**
 * One conditional UPDATE (WHERE status IN from) plus an event row, in one transaction.
 * Returns false when the deployment was not in an expected status: another worker won.
 */
export async function transition(prisma: PrismaClient, input: TransitionInput): Promise<boolean> {
  const from = (input.from ?? sourcesOf(input.to)).filter((s) => ALLOWED[s].includes(input.to));
  if (from.length === 0) return false;
  return updateWithEvent(
    prisma,
    { id: input.deploymentId, status: { in: from } },
    { ...input.set, status: input.to, ...(input.failureReason ? { failureReason: input.failureReason } : {}) },
    input.event,
  );
}

type EventInput = { type: string; message?: string; data?: Prisma.InputJsonValue };

/**
 * One conditional UPDATE of a deployment and, only when it matched, its event row, in one
 * transaction: a reader never sees the change without its event. False when nothing matched.
 */
export async function updateWithEvent(
  prisma: PrismaClient,
  where: Prisma.DeploymentWhereInput & { id: string },
  data: Prisma.DeploymentUpdateManyMutationInput,
  event: EventInput,
): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.deployment.updateMany({ where, data });
    if (count !== 1) return false;
    await tx.deploymentEvent.create({ data: { deploymentId: where.id, ...event } });
    return true;
  });
}

/** An event with no status change (progress, logs, notes). */
export async function recordEvent(
  prisma: PrismaClient,
  deploymentId: string,
  event: { type: string; message?: string; data?: Prisma.InputJsonValue },
): Promise<void> {
  await prisma.deploymentEvent.create({ data: { deploymentId, ...event } });
}
