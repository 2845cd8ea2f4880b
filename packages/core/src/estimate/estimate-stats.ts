import type { PrismaClient } from "../db";

/**
 * GET /v1/stats' estimate figures (issue 35): over the window's finished runs that carried an estimate, the median
 * error of the runtime and the cost (actual / estimate − 1; 0.1 is 10 % over) and the median of its absolute value.
 */
export async function estimateErrors(prisma: PrismaClient, w: { from: Date; to: Date }) {
  const rows = await prisma.$queryRaw<
    Array<{
      n: number;
      runtime: number | null;
      runtime_abs: number | null;
      cost: number | null;
      cost_abs: number | null;
    }>
  >`
    SELECT count(*)::int AS n,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY r.rt) AS runtime,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(r.rt)) AS runtime_abs,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY r.c) AS cost,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(r.c)) AS cost_abs
    FROM (SELECT "runtimeSeconds"::float8 / "estimatedSeconds" - 1 AS rt,
            CASE WHEN "estimatedCostMicros" > 0 THEN "costMicros"::float8 / "estimatedCostMicros" - 1 END AS c
          FROM "Deployment"
          WHERE "createdAt" >= ${w.from} AND "createdAt" < ${w.to} AND "status" = 'SUCCEEDED'
            AND "estimatedSeconds" > 0 AND "runtimeSeconds" IS NOT NULL AND "costMicros" IS NOT NULL) r`;
  const r = rows[0];
  const round = (x: number | null | undefined) =>
    x === null || x === undefined ? null : Math.round(x * 10_000) / 10_000;
  return {
    runs: r?.n ?? 0,
    medianRuntimeError: round(r?.runtime),
    medianAbsRuntimeError: round(r?.runtime_abs),
    medianCostError: round(r?.cost),
    medianAbsCostError: round(r?.cost_abs),
  };
}
