import type { PrismaClient } from "../db";
import { microsToUsd } from "../pricing/money";
import { monthStart, userSpend } from "./month-spend";
import type { SpendSettings } from "./settings";
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
  const rows = await prisma.$queryRaw<
    Array<{
      userId: string;
      email: string;
      spent: bigint;
      remaining: bigint;
      live: bigint;
      gpus: bigint;
      waiting: bigint;
    }>
  >`
    SELECT u."id" AS "userId", u."email",
      COALESCE(SUM(COALESCE(d."costMicros", 0)), 0)::bigint AS spent,
      COALESCE(SUM(GREATEST(d."maxCostMicros" - COALESCE(d."costMicros", 0), 0)) FILTER (WHERE d."status" IN ('QUEUED', 'PROVISIONING', 'RUNNING')), 0)::bigint AS remaining,
      COUNT(d."id") FILTER (WHERE d."status" IN ('QUEUED', 'PROVISIONING', 'RUNNING')) AS live,
      COALESCE(SUM(d."gpuCount") FILTER (WHERE d."status" IN ('QUEUED', 'PROVISIONING', 'RUNNING') AND d."podRequestedAt" IS NOT NULL), 0)::bigint AS gpus,
      COUNT(d."id") FILTER (WHERE d."status" = 'QUEUED' AND d."slotWaitSince" IS NOT NULL) AS waiting
    FROM "User" u
    LEFT JOIN "Deployment" d ON d."userId" = u."id"
      AND (d."status" IN ('QUEUED', 'PROVISIONING', 'RUNNING') OR COALESCE(d."finishedAt", d."updatedAt") >= ${start})
    WHERE d."id" IS NOT NULL OR EXISTS (SELECT 1 FROM "UserLimits" l WHERE l."userId" = u."id")
    GROUP BY u."id", u."email"
    ORDER BY spent DESC, u."email"
    LIMIT 1000`;
  const overrides = new Map(
    (await prisma.userLimits.findMany({ where: { userId: { in: rows.map((r) => r.userId) } } })).map((l) => [
      l.userId,
      l,
    ]),
  );
  return rows.map((r) => {
    const own = overrides.get(r.userId) ?? null;
    const limits = effectiveLimitsOf(settings, own);
    return {
      userId: r.userId,
      email: r.email,
      limits: {
        monthlyBudgetUsd: microsToUsd(limits.monthlyBudgetMicros),
        onExceed: limits.onExceed,
        maxLiveDeployments: limits.maxLiveDeployments,
        maxGpus: limits.maxGpus,
        allowedImages: limits.allowedImages,
      },
      overrides: overridesOf(own),
      month: start.toISOString().slice(0, 7),
      spentUsd: microsToUsd(BigInt(r.spent)),
      liveRemainingUsd: microsToUsd(BigInt(r.remaining)),
      liveDeployments: Number(r.live),
      gpusInUse: Number(r.gpus),
      waiting: Number(r.waiting),
    };
  });
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
  const committed = spend.spentMicros + spend.liveRemainingMicros;
  return {
    month: monthStart(now).toISOString().slice(0, 7),
    limits: {
      monthlyBudgetUsd: microsToUsd(budget),
      onExceed: limits.onExceed,
      maxLiveDeployments: limits.maxLiveDeployments,
      maxGpus: limits.maxGpus,
      allowedImages: limits.allowedImages,
    },
    spentUsd: microsToUsd(spend.spentMicros),
    liveRemainingUsd: microsToUsd(spend.liveRemainingMicros),
    /** what a new deployment's maxCostUsd may be at most now; null: no budget */
    availableUsd: budget > 0n ? microsToUsd(budget > committed ? budget - committed : 0n) : null,
    liveDeployments: spend.liveDeployments,
    podsInUse: spend.holdingPods,
    gpusInUse: spend.gpusInUse,
  };
}
