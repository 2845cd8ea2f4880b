import type { PrismaClient } from "../db";
import { microsToUsd } from "../pricing/money";
import type { StatsWindow } from "./params";
import * as q from "./queries";
import { estimateErrors } from "../estimate/estimate-stats";

const money = (m: bigint | null) => (m === null ? null : microsToUsd(m));

function percentiles(n: number, ms: bigint[] | null) {
  const at = (i: number) => (ms && ms[i] !== undefined && ms[i] !== null ? Number(ms[i]) / 1000 : null);
  return { count: n, p50: at(0), p90: at(1), p95: at(2), p99: at(3) };
}

/** Success rate over finished outcomes: SUCCEEDED / (SUCCEEDED + FAILED), 4 decimals; null when none. */
export function successRate(byStatus: Record<string, number>): number | null {
  const ok = byStatus.SUCCEEDED ?? 0;
  const done = ok + (byStatus.FAILED ?? 0);
  return done === 0 ? null : Math.round((ok / done) * 10_000) / 10_000;
}

/** Every figure of GET /v1/stats for a window: eight SQL queries, run concurrently. Money as USD strings. */
export async function statsReport(prisma: PrismaClient, w: StatsWindow, now: Date, billingThresholdMicros = 10_000n) {
  const [status, cost, setup, runtime, reasons, retry, tokens, billing, estimates] = await Promise.all([
    q.statusCounts(prisma, w),
    q.failedCost(prisma, w),
    q.setupTimes(prisma, w),
    q.runtimeByStatus(prisma, w),
    q.failureReasons(prisma, w),
    q.retries(prisma, w),
    q.tokenUsage(prisma, w, now),
    q.billingReconciliation(prisma, w, billingThresholdMicros),
    estimateErrors(prisma, w),
  ]);
  const b = billing[0];
  const byStatus = Object.fromEntries(status.map((r) => [r.status, r.n]));
  const total = cost.find((r) => r.period === null);
  const s = setup[0];
  const r = retry[0];
  const t = tokens[0];
  const costFigures = (row: q.FailedCostRow | undefined) => ({
    count: row?.n ?? 0,
    totalUsd: money(row?.total ?? 0n),
    meanUsd: money(row?.mean ?? null),
    p50Usd: money(row?.p50 ?? null),
    p95Usd: money(row?.p95 ?? null),
  });
  return {
    window: { from: w.from.toISOString(), to: w.to.toISOString(), groupBy: w.groupBy },
    deployments: { total: status.reduce((a, x) => a + x.n, 0), byStatus, successRate: successRate(byStatus) },
    failedCost: {
      ...costFigures(total),
      byPeriod: cost
        .filter((x) => x.period !== null)
        .map((x) => ({ period: (x.period as Date).toISOString(), ...costFigures(x) })),
    },
    setupSeconds: {
      createdToRunning: percentiles(s?.running_n ?? 0, s?.running_ms ?? null),
      createdToTrainingStarted: percentiles(s?.training_n ?? 0, s?.training_ms ?? null),
    },
    runtimeByStatus: runtime.map((x) => ({
      status: x.status,
      count: x.n,
      avgSeconds: x.avg_seconds,
      totalSeconds: Number(x.total_seconds),
    })),
    failureReasons: reasons.map((x) => ({ reason: x.reason, count: x.n, costUsd: money(x.cost) })),
    retries: {
      deployAttempts: Number(r?.deploy_attempts ?? 0n),
      deploymentsRetried: r?.deploy_retried ?? 0,
      terminateAttempts: Number(r?.terminate_attempts ?? 0n),
      terminationsRetried: r?.terminate_retried ?? 0,
      capacityWaits: Number(r?.capacity_waits ?? 0n),
      deploymentsThatWaitedForCapacity: r?.capacity_waited ?? 0,
    },
    runpodBilling: {
      /** closed deployments whose RunPod bill was read, and the two totals over them */
      deploymentsRead: b?.n ?? 0,
      ourCostUsd: money(b?.ours ?? 0n),
      runpodBilledUsd: money(b?.runpod ?? 0n),
      differenceUsd: money((b?.runpod ?? 0n) - (b?.ours ?? 0n)),
      /** deployments whose two figures differ by more than BILLING_MISMATCH_THRESHOLD_MICROS */
      overThreshold: b?.over_threshold ?? 0,
      /** closed with a pod, RunPod's bill not read yet (billing lags) */
      notReadYet: b?.unread ?? 0,
    },
    tokens: {
      minted: t?.minted ?? 0,
      used: t?.used ?? 0,
      expiredUnused: t?.expired_unused ?? 0,
      active: t?.active ?? 0,
      revokedUnused: t?.revoked_unused ?? 0,
    },
    /** the submissions' estimates against their finished runs (issue 35) */
    estimates,
  };
}

export type StatsReport = Awaited<ReturnType<typeof statsReport>>;
