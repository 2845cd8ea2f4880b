import { AppError } from "../errors";
import type { Deployment, Prisma, PrismaClient } from "../db";
import type { Clock } from "../time/clock";
import { microsToUsd } from "../pricing/money";
import { userSpend, withUserLock } from "./month-spend";
import type { SpendSettings } from "./settings";
import { effectiveLimits } from "./user-limits";

export type StartDecision = { start: true } | { start: false; reason: "budget" | "slot"; message: string };

type Tx = Prisma.TransactionClient;

/**
 * The deploy job asks, before its first create: may this deployment take a pod now? Under the user's lock:
 * their month spend has not reached the budget, no older deployment of theirs is waiting (first come, first
 * served within a user; users do not wait for each other), and one more pod and its GPUs fit their limits.
 * A start claims the slot (podRequestedAt); a wait is marked once (slotWaitSince + a `waiting` event) and the
 * monitor wakes the oldest waiting deployment of each user every tick.
 */
export async function claimStart(
  deps: { prisma: PrismaClient; clock: Clock; spend: SpendSettings },
  d: Deployment,
): Promise<StartDecision> {
  return withUserLock(deps.prisma, d.userId, async (tx): Promise<StartDecision> => {
    // read once the lock is held: the claim's time is when the slot was free, not when it was first asked for
    const now = deps.clock.now();
    const limits = await effectiveLimits(tx, deps.spend, d.userId);
    const spend = await userSpend(tx, d.userId, now);
    if (limits.monthlyBudgetMicros > 0n && spend.spentMicros >= limits.monthlyBudgetMicros) {
      return {
        start: false,
        reason: "budget",
        message: `the monthly budget of ${microsToUsd(limits.monthlyBudgetMicros)} USD is spent (${microsToUsd(spend.spentMicros)} USD this month): no new run starts`,
      };
    }
    const ahead = await tx.deployment.count({
      where: {
        userId: d.userId,
        status: "QUEUED",
        podRequestedAt: null,
        id: { not: d.id },
        OR: [{ createdAt: { lt: d.createdAt } }, { createdAt: d.createdAt, id: { lt: d.id } }],
      },
    });
    const podsFull = limits.maxLiveDeployments > 0 && spend.holdingPods + 1 > limits.maxLiveDeployments;
    const gpusFull = limits.maxGpus > 0 && spend.gpusInUse + d.gpuCount > limits.maxGpus;
    if (ahead > 0 || podsFull || gpusFull) {
      const why = [
        ...(ahead > 0 ? [`${ahead} earlier deployment(s) of yours wait first`] : []),
        ...(podsFull ? [`${spend.holdingPods} of ${limits.maxLiveDeployments} live deployments`] : []),
        ...(gpusFull ? [`${spend.gpusInUse} of ${limits.maxGpus} GPUs in use, ${d.gpuCount} more asked`] : []),
      ].join("; ");
      const message = `waiting for a slot: ${why}`;
      await markWaiting(tx, d, now, message);
      return { start: false, reason: "slot", message };
    }
    const { count } = await tx.deployment.updateMany({
      where: { id: d.id, status: "QUEUED", podId: null, podRequestedAt: null },
      data: { podRequestedAt: now, slotWaitSince: null },
    });
    if (count !== 1)
      throw new AppError("CONFLICT", `deployment ${d.id} is being deployed by another run`, { retryable: true });
    if (d.slotWaitSince !== null) {
      const waited = Math.round((now.getTime() - d.slotWaitSince.getTime()) / 1000);
      await tx.deploymentEvent.create({
        data: {
          deploymentId: d.id,
          type: "slot_acquired",
          message: `a slot is free after ${waited} s of waiting`,
          data: { waitedSeconds: waited },
        },
      });
    }
    return { start: true };
  });
}

/** The first wait of a deployment: slotWaitSince and one `waiting` event (later waits change nothing). */
async function markWaiting(tx: Tx, d: Deployment, now: Date, message: string): Promise<void> {
  const { count } = await tx.deployment.updateMany({
    where: { id: d.id, status: "QUEUED", slotWaitSince: null },
    data: { slotWaitSince: now },
  });
  if (count === 1) await tx.deploymentEvent.create({ data: { deploymentId: d.id, type: "waiting", message } });
}

/** The monitor's pass: the oldest waiting deployment of each user, whose deploy job is enqueued again. */
export async function oldestWaiting(prisma: PrismaClient, limit = 500): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT DISTINCT ON ("userId") "id" FROM "Deployment"
    WHERE "status" = 'QUEUED' AND "podRequestedAt" IS NULL AND "slotWaitSince" IS NOT NULL
    ORDER BY "userId", "createdAt", "id" LIMIT ${limit}`;
  return rows.map((r) => r.id);
}
