import { Prisma, type PrismaClient } from "../db";
import { microsToUsd } from "../pricing/money";
import { inMonthSpend, monthStart, SPEND_COLUMNS, userSpend, userSpendOf, type SpendRow } from "./month-spend";
import { availableMicros } from "./budget";
import type { EffectiveLimits, SpendSettings } from "./settings";
import { effectiveLimitsOf } from "./user-limits";

export interface UserSpendView {
  userId: string;
  email: string;
  /** the user's limits (their overrides over the defaults); budget "0.000000": none */
  limits: {
    monthlyBudgetUsd: string;
    onExceed: "block" | "stop";
    maxLiveDeployments: number;
    maxGpus: number;
    allowedImages: string[];
  };
  /** which limits are this user's own (the rest are the defaults) */
  overrides: string[];
  month: string;
  spentUsd: string;
  liveRemainingUsd: string;
  liveDeployments: number;
  gpusInUse: number;
  waiting: number;
}

/** Spend against limit per user this month: every user with limits or a deployment this month, biggest spender first. */
export async function spendReport(prisma: PrismaClient, settings: SpendSettings, now: Date): Promise<UserSpendView[]> {
  const start = monthStart(now);
  // each user's figures from the same aggregate as their budget check (SPEND_COLUMNS), beside their waiting count
  const rows = await prisma.$queryRaw<Array<SpendRow & { userId: string; email: string; waiting: bigint }>>(Prisma.sql`
    SELECT u."id" AS "userId", u."email", s.*
    FROM "User" u
    CROSS JOIN LATERAL (
      SELECT ${SPEND_COLUMNS}, COUNT(*) FILTER (WHERE "status" = 'QUEUED' AND "slotWaitSince" IS NOT NULL) AS waiting,
        COUNT(*) AS counted
      FROM "Deployment" WHERE "userId" = u."id" AND ${inMonthSpend(now)}
    ) s
    WHERE s.counted > 0 OR EXISTS (SELECT 1 FROM "UserLimits" l WHERE l."userId" = u."id")
    ORDER BY s.spent DESC, u."email"
    LIMIT 1000`);
  const overrides = new Map(
    (await prisma.userLimits.findMany({ where: { userId: { in: rows.map((r) => r.userId) } } })).map((l) => [
      l.userId,
      l,
    ]),
  );
  return rows.map((r) => {
    const own = overrides.get(r.userId) ?? null;
    const spend = userSpendOf(r);
    return {
      userId: r.userId,
      email: r.email,
      limits: limitsView(effectiveLimitsOf(settings, own)),
      overrides: overridesOf(own),
      month: start.toISOString().slice(0, 7),
      spentUsd: microsToUsd(spend.spentMicros),
      liveRemainingUsd: microsToUsd(spend.liveRemainingMicros),
      liveDeployments: spend.liveDeployments,
      gpusInUse: spend.gpusInUse,
      waiting: Number(r.waiting),
    };
  });
}

/** A user's limits as the API shows them (USD strings). */
function limitsView(limits: EffectiveLimits): UserSpendView["limits"] {
  return {
    monthlyBudgetUsd: microsToUsd(limits.monthlyBudgetMicros),
    onExceed: limits.onExceed,
    maxLiveDeployments: limits.maxLiveDeployments,
    maxGpus: limits.maxGpus,
    allowedImages: limits.allowedImages,
  };
}

function overridesOf(
  own: {
    monthlyBudgetMicros: bigint | null;
    onExceed: unknown;
    maxLiveDeployments: number | null;
    maxGpus: number | null;
    extraImages: string[];
  } | null,
): string[] {
  if (!own) return [];
  const set: string[] = [];
  if (own.monthlyBudgetMicros !== null) set.push("monthlyBudgetUsd");
  if (own.onExceed !== null) set.push("onExceed");
  if (own.maxLiveDeployments !== null) set.push("maxLiveDeployments");
  if (own.maxGpus !== null) set.push("maxGpus");
  if (own.extraImages.length > 0) set.push("extraImages");
  return set;
}

/** One user's own view: their limits and this month's spend (GET /v1/spend). */
export async function ownSpend(prisma: PrismaClient, settings: SpendSettings, userId: string, now: Date) {
  const [row, spend] = await Promise.all([
    prisma.userLimits.findUnique({ where: { userId } }),
    userSpend(prisma, userId, now),
  ]);
  const limits = effectiveLimitsOf(settings, row);
  const budget = limits.monthlyBudgetMicros;
  return {
    month: monthStart(now).toISOString().slice(0, 7),
    limits: limitsView(limits),
    spentUsd: microsToUsd(spend.spentMicros),
    liveRemainingUsd: microsToUsd(spend.liveRemainingMicros),
    /** what a new deployment's maxCostUsd may be at most now; null: no budget */
    availableUsd: budget > 0n ? microsToUsd(availableMicros(budget, spend)) : null,
    liveDeployments: spend.liveDeployments,
    podsInUse: spend.holdingPods,
    gpusInUse: spend.gpusInUse,
  };
}
