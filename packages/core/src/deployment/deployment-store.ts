import type { DeploymentEvent, PrismaClient } from "../db";

/**
 * The deployment's SQL: the statements Prisma's query builder cannot say in one round trip. (The submission's
 * INSERT is insert-deployment.ts; the running cost of live pods is in cost.ts, beside the rule it repeats.)
 */

/**
 * Counts a terminate call on a deployment whose pod is not terminated yet, and answers when the first call
 * started (this one's `callStart` if it is the first); undefined when the pod's termination is recorded already.
 */
export async function markTerminateRequested(
  prisma: PrismaClient,
  deploymentId: string,
  callStart: Date,
): Promise<Date | undefined> {
  const marked = await prisma.$queryRaw<Array<{ at: Date }>>`
    UPDATE "Deployment" SET "terminateAttempts" = "terminateAttempts" + 1, "terminateRequestedAt" = COALESCE("terminateRequestedAt", ${callStart})
    WHERE "id" = ${deploymentId}::uuid AND "podTerminatedAt" IS NULL RETURNING "terminateRequestedAt" AS at`;
  return marked[0]?.at;
}

/** Closes a deployment that never had a pod at zero runtime, keeping a cost already charged to it (an orphan's). */
export async function closeWithoutPod(prisma: PrismaClient, deploymentId: string, now: Date): Promise<void> {
  await prisma.$executeRaw`UPDATE "Deployment" SET "podTerminatedAt" = ${now}, "runtimeSeconds" = 0, "costMicros" = COALESCE("costMicros", 0) WHERE "id" = ${deploymentId}::uuid AND "podId" IS NULL AND "podTerminatedAt" IS NULL`;
}

/** Did the pod report that it deletes itself (the start script's dead-man switch logs `self-terminating:`)? */
export async function reportedSelfTermination(prisma: PrismaClient, deploymentId: string): Promise<boolean> {
  const rows = await prisma.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM "DeploymentEvent"
    WHERE "deploymentId" = ${deploymentId}::uuid AND "type" = 'log' AND "data"::text LIKE '%self-terminating:%'`;
  return (rows[0]?.n ?? 0) > 0;
}

/** Adds an orphan pod's cost to the deployment it was created for, when that deployment recorded no pod of its own. */
export async function chargeOrphanCost(prisma: PrismaClient, deploymentId: string, micros: bigint): Promise<void> {
  await prisma.$executeRaw`UPDATE "Deployment" SET "costMicros" = COALESCE("costMicros", 0) + ${micros} WHERE "id" = ${deploymentId}::uuid AND "podId" IS NULL`;
}

/** One timeline read: a deployment's events with an id above `after`, oldest first, at most `limit`. */
export interface EventsRead {
  deploymentId: string;
  after: bigint;
  limit: number;
}

type EventRow = DeploymentEvent & { sub: bigint };

/** Several timeline reads in ONE query (a LATERAL read each); the answer has one list per read, in their order. */
export async function eventsAfterEach(
  prisma: PrismaClient,
  reads: readonly EventsRead[],
): Promise<DeploymentEvent[][]> {
  const ids = reads.map((r) => r.deploymentId);
  const after = reads.map((r) => r.after.toString());
  const limits = reads.map((r) => r.limit);
  const rows = await prisma.$queryRaw<EventRow[]>`
    SELECT s.sub, e."id", e."deploymentId", e."type", e."message", e."data", e."createdAt"
    FROM unnest(${ids}::uuid[], ${after}::bigint[], ${limits}::int[]) WITH ORDINALITY AS s(did, after, lim, sub)
    CROSS JOIN LATERAL (
      SELECT * FROM "DeploymentEvent" ev WHERE ev."deploymentId" = s.did AND ev."id" > s.after ORDER BY ev."id" LIMIT s.lim
    ) e
    ORDER BY s.sub, e."id"`;
  const out: DeploymentEvent[][] = reads.map(() => []);
  for (const { sub, ...event } of rows) out[Number(sub) - 1]?.push({ ...event, id: BigInt(event.id) });
  return out;
}
