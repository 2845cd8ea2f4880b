import { Prisma, type PrismaClient } from "../db";

/**
 * What finished runs measured (issue 35 item 3): each run's real tokens and real tokens/s (the pod's train phase
 * facts `tokens_real` and `real_tokens_per_s`, recorded on the deployment when the phase ends), and the medians the
 * estimate uses once at least N runs of a combination exist. The combination is the base model and GPU type: the
 * same model is the same size bucket (and the GPU count is part of it: tokens/s of the whole pod).
 */
export const MEASURED_RUNS_CONSIDERED = 50;

/** The train phase's end: its measured tokens and tokens/s onto the deployment (a separate, conditional UPDATE). */
export async function recordTrainThroughput(
  prisma: Pick<PrismaClient, "$executeRaw">,
  deploymentId: string,
  phase: string,
  facts: Record<string, unknown>,
): Promise<void> {
  const tokens = facts.tokens_real;
  const perSecond = facts.real_tokens_per_s;
  if (phase !== "train" || typeof tokens !== "number" || typeof perSecond !== "number" || !(perSecond > 0)) return;
  await prisma.$executeRaw`UPDATE "Deployment" SET "trainTokens" = ${BigInt(Math.round(tokens))},
    "trainTokensPerSecond" = ${perSecond} WHERE "id" = ${deploymentId}::uuid`;
}

export interface Measured {
  /** the median, null with fewer than `minRuns` runs */
  median: number | null;
  runs: number;
}

/** The median real tokens/s of the last runs of this base model on this GPU type and count that measured one. */
export async function measuredTokensPerSecond(
  prisma: PrismaClient,
  c: { baseModel: string; gpuTypeId: string; gpuCount: number },
  minRuns: number,
): Promise<Measured> {
  const rows = await prisma.$queryRaw<Array<{ median: number | null; n: number }>>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r."trainTokensPerSecond") AS median, count(*)::int AS n
    FROM (SELECT "trainTokensPerSecond" FROM "Deployment"
          WHERE "baseModel" = ${c.baseModel} AND "gpuTypeId" = ${c.gpuTypeId} AND "gpuCount" = ${c.gpuCount}
            AND "trainTokensPerSecond" IS NOT NULL
            AND "status" = 'SUCCEEDED'
          ORDER BY "finishedAt" DESC NULLS LAST LIMIT ${MEASURED_RUNS_CONSIDERED}) r`;
  const n = rows[0]?.n ?? 0;
  return { median: n >= minRuns && minRuns > 0 ? (rows[0]?.median ?? null) : null, runs: n };
}

/**
 * The median seconds a run bills besides training (pod creation to termination minus the train phase: boot,
 * setup, downloads, load, tokenize, save, upload), from the phase timings of the last successful runs of this base
 * model, else of any model.
 */
export async function measuredOverheadSeconds(
  prisma: PrismaClient,
  baseModel: string,
  minRuns: number,
): Promise<Measured & { scope: "model" | "all" | null }> {
  const query = (model: string | null) => prisma.$queryRaw<Array<{ median: number | null; n: number }>>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.overhead) AS median, count(*)::int AS n
    FROM (SELECT d."runtimeSeconds" - (e."data"->>'seconds')::float8 AS overhead
          FROM "Deployment" d
          JOIN LATERAL (SELECT "data" FROM "DeploymentEvent" ev WHERE ev."deploymentId" = d."id"
                        AND ev."type" = 'phase_ended' AND ev."data"->>'phase' = 'train' ORDER BY ev."id" DESC LIMIT 1) e ON true
          WHERE d."status" = 'SUCCEEDED' AND d."runtimeSeconds" IS NOT NULL
            ${model === null ? Prisma.empty : Prisma.sql`AND d."baseModel" = ${model}`}
          ORDER BY d."finishedAt" DESC NULLS LAST LIMIT ${MEASURED_RUNS_CONSIDERED}) r`;
  for (const [model, scope] of [
    [baseModel, "model"],
    [null, "all"],
  ] as const) {
    const rows = await query(model);
    const n = rows[0]?.n ?? 0;
    if (minRuns > 0 && n >= minRuns && rows[0]?.median !== null && rows[0]?.median !== undefined)
      return { median: Math.max(0, rows[0].median), runs: n, scope };
  }
  return { median: null, runs: 0, scope: null };
}

/** The submission's estimate onto its deployment (a separate UPDATE after the insert, only when one was made). */
export async function storeEstimate(
  prisma: Pick<PrismaClient, "$executeRaw">,
  deploymentId: string,
  e: { tokens: number; seconds: number; costMicros: bigint },
): Promise<void> {
  await prisma.$executeRaw`UPDATE "Deployment" SET "estimatedTokens" = ${BigInt(Math.round(e.tokens))},
    "estimatedSeconds" = ${Math.round(e.seconds)}, "estimatedCostMicros" = ${e.costMicros}
    WHERE "id" = ${deploymentId}::uuid`;
}
