import { AppError } from "../errors";
import { Prisma, type PrismaClient } from "../db";
import { LIVE_STATUSES } from "../deployment/state-machine";

type Db = Pick<PrismaClient, "$queryRaw"> | Prisma.TransactionClient;

/** The first instant of `now`'s calendar month, UTC: budgets are per month. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export interface UserSpend {
  /** recorded cost this month: closed deployments, and what live ones have cost so far */
  spentMicros: bigint;
  /** what live deployments (and closed ones still holding a pod) may still cost: each one's maxCost minus its spend */
  liveRemainingMicros: bigint;
  liveDeployments: number;
  /** deployments holding a pod (or about to: a create was tried; or whose pod is not terminated yet) and their GPUs */
  holdingPods: number;
  gpusInUse: number;
}

/** a live deployment: queued, provisioning or running (LIVE_STATUSES) */
export const LIVE = Prisma.sql`"status" IN (${Prisma.join(LIVE_STATUSES.map((status) => Prisma.sql`${status}::"DeploymentStatus"`))})`;
/**
 * holds a slot: a live deployment a create was tried for, or any deployment whose pod is not known gone yet: its pod
 * not terminated, or (cancelled during its create) the create not known to have made none (issue 34)
 */
export const HOLDING = Prisma.sql`((${LIVE} AND "podRequestedAt" IS NOT NULL) OR (("podId" IS NOT NULL OR "podRequestedAt" IS NOT NULL) AND "podTerminatedAt" IS NULL))`;

/** The deployments a user's month counts: live ones, those holding a pod, and those closed this month. */
export function inMonthSpend(now: Date): Prisma.Sql {
  return Prisma.sql`(${LIVE} OR ${HOLDING} OR COALESCE("finishedAt", "updatedAt") >= ${monthStart(now)})`;
}

/**
 * The month's figures over one user's deployments (an aggregate: `spent`, `remaining`, `live`, `holding`, `gpus`):
 * the one definition the budget check, the slot claim, the stop rule and the reports read.
 */
export const SPEND_COLUMNS = Prisma.sql`
  COALESCE(SUM(COALESCE("costMicros", 0)), 0)::bigint AS spent,
  COALESCE(SUM(GREATEST("maxCostMicros" - COALESCE("costMicros", 0), 0)) FILTER (WHERE ${LIVE} OR ${HOLDING}), 0)::bigint AS remaining,
  COUNT(*) FILTER (WHERE ${LIVE}) AS live,
  COUNT(*) FILTER (WHERE ${HOLDING}) AS holding,
  COALESCE(SUM("gpuCount") FILTER (WHERE ${HOLDING}), 0)::bigint AS gpus`;

/** A row of SPEND_COLUMNS. */
export interface SpendRow {
  spent: bigint;
  remaining: bigint;
  live: bigint;
  holding: bigint;
  gpus: bigint;
}

export function userSpendOf(r: SpendRow | undefined): UserSpend {
  return {
    spentMicros: BigInt(r?.spent ?? 0n),
    liveRemainingMicros: BigInt(r?.remaining ?? 0n),
    liveDeployments: Number(r?.live ?? 0),
    holdingPods: Number(r?.holding ?? 0),
    gpusInUse: Number(r?.gpus ?? 0),
  };
}

/** One user's month: one statement over their live deployments and those closed this month. */
export async function userSpend(db: Db, userId: string, now: Date): Promise<UserSpend> {
  const rows = await db.$queryRaw<SpendRow[]>(
    Prisma.sql`SELECT ${SPEND_COLUMNS} FROM "Deployment" WHERE "userId" = ${userId}::uuid AND ${inMonthSpend(now)}`,
  );
  return userSpendOf(rows[0]);
}

/**
 * Runs `fn` in a transaction that holds the user's advisory lock (one user's spend decisions, submit and start,
 * one at a time). The lock is only tried, never waited for inside a transaction: a waiting transaction would hold
 * a pooled connection, and twenty deploy jobs of one user would starve the pool. Busy: a short random pause, again.
 */
export async function withUserLock<T>(
  prisma: PrismaClient,
  userId: string,
  fn: (tx: Prisma.TransactionClient) => Promise<T>,
  maxTries = 200,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<
        Array<{ locked: boolean }>
      >`SELECT pg_try_advisory_xact_lock(hashtextextended(${`trainpod-user:${userId}`}::text, 0)) AS locked`;
      return row?.locked ? { value: await fn(tx) } : null;
    });
    if (outcome) return outcome.value;
    if (attempt >= maxTries)
      throw new AppError("CONFLICT", "this user's spend is being decided by another request; try again", {
        retryable: true,
      });
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * Math.min(100, 10 * attempt)));
  }
}
