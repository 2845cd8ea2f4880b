import type { PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import type { Clock } from "../time/clock";
import { AppError } from "../errors";
import { transition } from "../deployment/state-machine";

/** Cancels a live deployment and enqueues its pod's termination. A closed one answers CONFLICT. */
export async function cancelDeployment(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer; clock: Clock },
  deploymentId: string,
  by: string,
): Promise<void> {
  const now = deps.clock.now();
  const ok = await transition(deps.prisma, {
    deploymentId,
    to: "CANCELLED",
    set: { cancelRequestedAt: now, finishedAt: now },
    event: { type: "cancelled", message: `cancelled by ${by}` },
  });
  if (!ok) {
    const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId }, select: { status: true } });
    throw new AppError("CONFLICT", `deployment is ${d?.status ?? "gone"} and cannot be cancelled`);
  }
  await deps.jobs.terminate(deploymentId, "cancelled");
}
