import { AppError } from "../errors";
import type { Deployment, Prisma, PrismaClient } from "../db";
import type { Clock } from "../time/clock";
import { microsToUsd } from "../pricing/money";
import { userSpend, withUserLock, type UserSpend } from "./month-spend";
import type { EffectiveLimits, SpendSettings } from "./settings";
import { effectiveLimits } from "./user-limits";

export type StartDecision = { start: true } | { start: false; reason: "budget" | "slot"; message: string };

type Tx = Prisma.TransactionClient;

/** The user's deployments submitted before this one that have not claimed a slot yet, and their GPUs. */
export interface Ahead {
  count: number;
  gpus: number;
}

/** Does the user have a slot limit at all (USER_MAX_LIVE_DEPLOYMENTS or USER_MAX_GPUS, or an admin's override)? */
export function hasSlotLimits(limits: Pick<EffectiveLimits, "maxLiveDeployments" | "maxGpus">): boolean {
  return limits.maxLiveDeployments > 0 || limits.maxGpus > 0;
}

/**
 * The slot rule: a deployment may start when it fits together with every earlier deployment of its user that has
 * not started yet (the pods and GPUs held now, plus those earlier ones, plus itself). So a later deployment never
 * takes a slot an earlier one needs (first submitted, first started), and up to the limit all start at once,
 * whatever order their deploy jobs run in. Answers why it does not fit; [] when it does. wake-waiting.ts says the
 * same rule in SQL to find the deployments a release lets start.
 */
export function slotShortfall(
  limits: Pick<EffectiveLimits, "maxLiveDeployments" | "maxGpus">,
  held: Pick<UserSpend, "holdingPods" | "gpusInUse">,
  ahead: Ahead,
  gpuCount: number,
): string[] {
  const max = limits.maxLiveDeployments;
  const podsFull = max > 0 && held.holdingPods + ahead.count + 1 > max;
  const gpusFull = limits.maxGpus > 0 && held.gpusInUse + ahead.gpus + gpuCount > limits.maxGpus;
  return [
    ...(podsFull ? [`${held.holdingPods} of ${max} live deployments`] : []),
    ...(gpusFull ? [`${held.gpusInUse} of ${limits.maxGpus} GPUs in use, ${gpuCount} more asked`] : []),
    ...((podsFull || gpusFull) && ahead.count > 0 ? [`${ahead.count} earlier deployment(s) of yours wait first`] : []),
  ];
}

/**
 * The deploy job asks, before its first create: may this deployment take a pod now? Its month spend must not have
 * reached the budget, and (when the user has slot limits) it must fit with every earlier one (slotShortfall), decided
 * under the user's lock. Without slot limits nothing waits and nothing is serialized: the limits, the budget (when
 * there is one) and the claim are read and written without the lock (recorded spend, which no start changes).
 * A start claims the slot (podRequestedAt); a wait is marked once (slotWaitSince + a `waiting` event), and the
 * deployment is woken when a release lets it fit (wake-waiting.ts).
 */
export async function claimStart(
  deps: { prisma: PrismaClient; clock: Clock; spend: SpendSettings },
  d: Deployment,
): Promise<StartDecision> {
  const limits = await effectiveLimits(deps.prisma, deps.spend, d.userId);
  if (!hasSlotLimits(limits)) {
    const now = deps.clock.now();
    if (limits.monthlyBudgetMicros > 0n) {
      const spent = budgetSpent(limits, await userSpend(deps.prisma, d.userId, now));
      if (spent) return spent;
    }
    await (d.slotWaitSince === null ? claim(deps.prisma, d, now) : deps.prisma.$transaction((tx) => claim(tx, d, now)));
    return { start: true };
  }
  return withUserLock(deps.prisma, d.userId, async (tx): Promise<StartDecision> => {
    // read once the lock is held: the claim's time is when the slot was free, not when it was first asked for
    const now = deps.clock.now();
    const spend = await userSpend(tx, d.userId, now);
    const spent = budgetSpent(limits, spend);
    if (spent) return spent;
    const why = slotShortfall(limits, spend, await earlierNotStarted(tx, d), d.gpuCount);
    if (why.length > 0) {
      const message = `waiting for a slot: ${why.join("; ")}`;
      await markWaiting(tx, d, now, message);
      return { start: false, reason: "slot", message };
    }
    await claim(tx, d, now);
    return { start: true };
  });
}

function budgetSpent(limits: EffectiveLimits, spend: UserSpend): StartDecision | null {
  if (limits.monthlyBudgetMicros <= 0n || spend.spentMicros < limits.monthlyBudgetMicros) return null;
  return {
    start: false,
    reason: "budget",
    message: `the monthly budget of ${microsToUsd(limits.monthlyBudgetMicros)} USD is spent (${microsToUsd(spend.spentMicros)} USD this month): no new run starts`,
  };
}

/** The user's deployments submitted before `d` (same instant: lower id) that have not claimed a slot. */
async function earlierNotStarted(tx: Tx, d: Deployment): Promise<Ahead> {
  const r = await tx.deployment.aggregate({
    where: {
      userId: d.userId,
      status: "QUEUED",
      podRequestedAt: null,
      id: { not: d.id },
      OR: [{ createdAt: { lt: d.createdAt } }, { createdAt: d.createdAt, id: { lt: d.id } }],
    },
    _count: { _all: true },
    _sum: { gpuCount: true },
  });
  return { count: r._count._all, gpus: r._sum.gpuCount ?? 0 };
}

/** The claim: one conditional UPDATE (podRequestedAt), and `slot_acquired` when it had waited. */
async function claim(tx: Tx, d: Deployment, now: Date): Promise<void> {
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
}

/** The first wait of a deployment: slotWaitSince and one `waiting` event (later waits change nothing). */
async function markWaiting(tx: Tx, d: Deployment, now: Date, message: string): Promise<void> {
  const { count } = await tx.deployment.updateMany({
    where: { id: d.id, status: "QUEUED", slotWaitSince: null },
    data: { slotWaitSince: now },
  });
  if (count === 1) await tx.deploymentEvent.create({ data: { deploymentId: d.id, type: "waiting", message } });
}
