import type { PrismaClient } from "../db";

/** Cost of `seconds` of a pod at `costPerHrMicros`, rounded up to a whole micro-dollar. */
export function costForSeconds(costPerHrMicros: bigint, seconds: number): bigint {
  if (seconds <= 0) return 0n;
  const s = BigInt(Math.ceil(seconds));
  return (costPerHrMicros * s + 3599n) / 3600n;
}

/** Whole seconds billed between creation and termination (or now), every started second counting. */
export function billedSeconds(from: Date, to: Date): number {
  return Math.max(0, Math.ceil((to.getTime() - from.getTime()) / 1000));
}

/** A pod's cost from its creation until `end` (termination or now); null before it has a pod and a price. */
export function podCost(d: { costPerHrMicros: bigint | null; podCreatedAt: Date | null }, end: Date): bigint | null {
  if (d.costPerHrMicros === null || d.podCreatedAt === null) return null;
  return costForSeconds(d.costPerHrMicros, billedSeconds(d.podCreatedAt, end));
}

/**
 * The same rule as costForSeconds and billedSeconds, in SQL: every live pod's cost so far (costPerHr × started
 * seconds since podCreatedAt, rounded up to a whole micro-dollar), in ONE UPDATE (the monitor's tick). Keep the two alike.
 */
export async function recordRunningCosts(prisma: Pick<PrismaClient, "$executeRaw">, now: Date): Promise<number> {
  return prisma.$executeRaw`UPDATE "Deployment" SET "costMicros" = CEIL("costPerHrMicros" * CEIL(EXTRACT(EPOCH FROM (${now}::timestamptz - "podCreatedAt"))) / 3600.0)::bigint WHERE "podTerminatedAt" IS NULL AND "podCreatedAt" IS NOT NULL AND "costPerHrMicros" IS NOT NULL`;
}
