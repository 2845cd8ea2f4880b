import type { PrismaClient } from "../db";
import type { StatsWindow } from "./params";

/*
 * Each figure of GET /v1/stats is one SQL query over indexed columns: deployments by "createdAt"
 * (Deployment_createdAt_idx), download tokens by "createdAt" (DatasetDownloadToken_createdAt_idx).
 * Money stays integer micro-dollars (bigint) in SQL; percentiles of money are percentile_disc, so
 * each is a real deployment's cost, never a float.
 */

export interface StatusCountRow {
  status: string;
  n: number;
}
export interface FailedCostRow {
  period: Date | null;
  n: number;
  total: bigint;
  mean: bigint;
  p50: bigint;
  p95: bigint;
}
export interface SetupTimeRow {
  running_n: number;
  running_ms: bigint[] | null;
  training_n: number;
  training_ms: bigint[] | null;
}
export interface RuntimeRow {
  status: string;
  n: number;
  avg_seconds: number;
  total_seconds: bigint;
}
export interface FailureReasonRow {
  reason: string;
  n: number;
  cost: bigint;
}
export interface RetriesRow {
  deployments: number;
  deploy_attempts: bigint;
  deploy_retried: number;
  terminate_attempts: bigint;
  terminate_retried: number;
  capacity_waits: bigint;
  capacity_waited: number;
}
export interface TokensRow {
  minted: number;
  used: number;
  expired_unused: number;
  active: number;
  revoked_unused: number;
}

/** The percentiles reported for setup times, in the order of the arrays the query returns. */
export const SETUP_PERCENTILES = [0.5, 0.9, 0.95, 0.99] as const;

export function statusCounts(prisma: PrismaClient, w: StatsWindow): Promise<StatusCountRow[]> {
  return prisma.$queryRaw<StatusCountRow[]>`
    SELECT status::text AS status, count(*)::int AS n
    FROM "Deployment" WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to}
    GROUP BY status ORDER BY status`;
}

/** Failed deployments' cost per period, plus one total row (period null), via ROLLUP. */
export function failedCost(prisma: PrismaClient, w: StatsWindow): Promise<FailedCostRow[]> {
  return prisma.$queryRaw<FailedCostRow[]>`
    SELECT period, count(*)::int AS n, sum(cost)::bigint AS total, round(avg(cost))::bigint AS mean,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY cost) AS p50,
           percentile_disc(0.95) WITHIN GROUP (ORDER BY cost) AS p95
    FROM (SELECT date_trunc(${w.groupBy}, "createdAt", 'UTC') AS period, "costMicros" AS cost
          FROM "Deployment"
          WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to} AND status = 'FAILED' AND "costMicros" IS NOT NULL) f
    GROUP BY ROLLUP (period) ORDER BY period NULLS LAST`;
}

/** created → running and created → training started, in milliseconds, at SETUP_PERCENTILES. */
export function setupTimes(prisma: PrismaClient, w: StatsWindow): Promise<SetupTimeRow[]> {
  return prisma.$queryRaw<SetupTimeRow[]>`
    SELECT count("runningAt")::int AS running_n,
           percentile_disc(ARRAY[0.5, 0.9, 0.95, 0.99]) WITHIN GROUP (ORDER BY (extract(epoch FROM "runningAt" - "createdAt") * 1000)::bigint) AS running_ms,
           count("trainingStartedAt")::int AS training_n,
           percentile_disc(ARRAY[0.5, 0.9, 0.95, 0.99]) WITHIN GROUP (ORDER BY (extract(epoch FROM "trainingStartedAt" - "createdAt") * 1000)::bigint) AS training_ms
    FROM "Deployment" WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to}`;
}

/** Average billed pod runtime by status (closed deployments: runtime is recorded at termination). */
export function runtimeByStatus(prisma: PrismaClient, w: StatsWindow): Promise<RuntimeRow[]> {
  return prisma.$queryRaw<RuntimeRow[]>`
    SELECT status::text AS status, count(*)::int AS n, round(avg("runtimeSeconds"), 1)::float8 AS avg_seconds,
           sum("runtimeSeconds")::bigint AS total_seconds
    FROM "Deployment"
    WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to} AND "runtimeSeconds" IS NOT NULL
    GROUP BY status ORDER BY status`;
}

export function failureReasons(prisma: PrismaClient, w: StatsWindow): Promise<FailureReasonRow[]> {
  return prisma.$queryRaw<FailureReasonRow[]>`
    SELECT coalesce("failureReason"::text, 'UNKNOWN') AS reason, count(*)::int AS n, coalesce(sum("costMicros"), 0)::bigint AS cost
    FROM "Deployment"
    WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to} AND status = 'FAILED'
    GROUP BY 1 ORDER BY n DESC, reason`;
}

export function retries(prisma: PrismaClient, w: StatsWindow): Promise<RetriesRow[]> {
  return prisma.$queryRaw<RetriesRow[]>`
    SELECT count(*)::int AS deployments,
           coalesce(sum(attempts), 0)::bigint AS deploy_attempts, (count(*) FILTER (WHERE attempts > 1))::int AS deploy_retried,
           coalesce(sum("terminateAttempts"), 0)::bigint AS terminate_attempts, (count(*) FILTER (WHERE "terminateAttempts" > 1))::int AS terminate_retried,
           coalesce(sum("capacityWaits"), 0)::bigint AS capacity_waits, (count(*) FILTER (WHERE "capacityWaits" > 0))::int AS capacity_waited
    FROM "Deployment" WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to}`;
}

/** Dataset download tokens minted in the window, by what became of them as of `now`. */
export function tokenUsage(prisma: PrismaClient, w: StatsWindow, now: Date): Promise<TokensRow[]> {
  return prisma.$queryRaw<TokensRow[]>`
    SELECT count(*)::int AS minted,
           (count(*) FILTER (WHERE "usedAt" IS NOT NULL))::int AS used,
           (count(*) FILTER (WHERE "usedAt" IS NULL AND "revokedAt" IS NULL AND "expiresAt" <= ${now}))::int AS expired_unused,
           (count(*) FILTER (WHERE "usedAt" IS NULL AND "revokedAt" IS NULL AND "expiresAt" > ${now}))::int AS active,
           (count(*) FILTER (WHERE "usedAt" IS NULL AND "revokedAt" IS NOT NULL))::int AS revoked_unused
    FROM "DatasetDownloadToken" WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to}`;
}

export interface BillingRow {
  n: number;
  ours: bigint;
  runpod: bigint;
  over_threshold: number;
  unread: number;
}

/** Closed deployments whose RunPod bill was read: our computed cost beside RunPod's, and how many differ by more than the threshold. */
export function billingReconciliation(
  prisma: PrismaClient,
  w: StatsWindow,
  thresholdMicros: bigint,
): Promise<BillingRow[]> {
  return prisma.$queryRaw<BillingRow[]>`
    SELECT (count(*) FILTER (WHERE "runpodBilledAt" IS NOT NULL))::int AS n,
           coalesce(sum("costMicros") FILTER (WHERE "runpodBilledAt" IS NOT NULL), 0)::bigint AS ours,
           coalesce(sum("runpodBilledMicros"), 0)::bigint AS runpod,
           (count(*) FILTER (WHERE abs("runpodBilledMicros" - coalesce("costMicros", 0)) > ${thresholdMicros}))::int AS over_threshold,
           (count(*) FILTER (WHERE "podTerminatedAt" IS NOT NULL AND "podId" IS NOT NULL AND "runpodBilledAt" IS NULL))::int AS unread
    FROM "Deployment" WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to}`;
}
