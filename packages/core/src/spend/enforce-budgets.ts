import { Prisma, type PrismaClient } from "../db";
import { LIVE_STATUSES } from "../deployment/state-machine";
import { microsToUsd } from "../pricing/money";
import { inMonthSpend, LIVE, SPEND_COLUMNS, type SpendRow } from "./month-spend";
import type { SpendSettings } from "./settings";
import { effectiveLimitsOf } from "./user-limits";

export interface OverBudget {
  userId: string;
  deploymentIds: string[];
  message: string;
}

/**
 * Users whose month spend (recorded cost, live pods at what they have cost so far) reached their budget and
 * whose admin chose `stop`: their live deployments, to be stopped. With `block` (the default) nothing running
 * is touched; only new starts are refused (claimStart).
 */
export async function liveDeploymentsOverBudget(
  prisma: PrismaClient,
  settings: SpendSettings,
  now: Date,
): Promise<OverBudget[]> {
  // every user with a live deployment, their month counted as their budget check counts it (SPEND_COLUMNS)
  const users = await prisma.$queryRaw<Array<SpendRow & { userId: string }>>(Prisma.sql`
    SELECT "userId", ${SPEND_COLUMNS} FROM "Deployment"
    WHERE "userId" IN (SELECT DISTINCT "userId" FROM "Deployment" WHERE ${LIVE})
      AND ${inMonthSpend(now)}
    GROUP BY "userId"`);
  if (users.length === 0) return [];
  const rows = await prisma.userLimits.findMany({ where: { userId: { in: users.map((u) => u.userId) } } });
  const byUser = new Map(rows.map((r) => [r.userId, r]));
  const over: OverBudget[] = [];
  for (const u of users) {
    const limits = effectiveLimitsOf(settings, byUser.get(u.userId) ?? null);
    if (limits.onExceed !== "stop" || limits.monthlyBudgetMicros <= 0n || BigInt(u.spent) < limits.monthlyBudgetMicros)
      continue;
    const live = await prisma.deployment.findMany({
      where: { userId: u.userId, status: { in: [...LIVE_STATUSES] } },
      select: { id: true },
    });
    over.push({
      userId: u.userId,
      deploymentIds: live.map((d) => d.id),
      message: `the monthly budget of ${microsToUsd(limits.monthlyBudgetMicros)} USD is spent (${microsToUsd(BigInt(u.spent))} USD this month) and its rule is stop`,
    });
  }
  return over;
}
