import { Prisma, type PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import type { Logger } from "../logging";
import { HOLDING } from "./month-spend";
import type { SpendSettings } from "./settings";

export interface WakeOptions {
  /** only this user's deployments (a release wakes its own user's) */
  userId?: string;
  /**
   * also each user's first waiting deployment even if nothing fits (the monitor's pass): it asks again, so a budget
   * spent meanwhile fails it, and a wake lost to a race (its deploy job still running when the slot freed) costs one
   * tick at most
   */
  oldest?: boolean;
  limit?: number;
}

/**
 * The waiting deployments (a deploy job found no slot: slotWaitSince) that now fit: of each user's deployments not
 * started yet (QUEUED, no claim), in submission order, every one that fits with all those before it. claimStart's
 * rule (slotShortfall) in one statement: the pods and GPUs the user holds (month-spend's HOLDING) + the running
 * count and GPU sum of the not-started ones up to it must be within the user's limits (their override, else the
 * default; 0 = none). One statement for every user (the monitor) or one (a release).
 */
export async function waitingToWake(
  prisma: Pick<PrismaClient, "$queryRaw">,
  settings: Pick<SpendSettings, "maxLiveDeployments" | "maxGpus">,
  options: WakeOptions = {},
): Promise<string[]> {
  const user = options.userId === undefined ? Prisma.empty : Prisma.sql`AND "userId" = ${options.userId}::uuid`;
  const rows = await prisma.$queryRaw<Array<{ id: string }>>(Prisma.sql`
    WITH pending AS (
      SELECT "id", "userId", "slotWaitSince", ROW_NUMBER() OVER w AS n, SUM("gpuCount") OVER w AS gpus
      FROM "Deployment"
      WHERE "status" = 'QUEUED' AND "podRequestedAt" IS NULL ${user}
      WINDOW w AS (PARTITION BY "userId" ORDER BY "createdAt", "id")
    ), waiting AS (
      SELECT *, ROW_NUMBER() OVER (PARTITION BY "userId" ORDER BY n) AS wn FROM pending WHERE "slotWaitSince" IS NOT NULL
    ), users AS (
      SELECT u."userId", h.pods, h.gpus,
        COALESCE(l."maxLiveDeployments", ${settings.maxLiveDeployments}) AS max_live,
        COALESCE(l."maxGpus", ${settings.maxGpus}) AS max_gpus
      FROM (SELECT DISTINCT "userId" FROM waiting) u
      LEFT JOIN "UserLimits" l ON l."userId" = u."userId"
      CROSS JOIN LATERAL (
        SELECT COUNT(*) AS pods, COALESCE(SUM("gpuCount"), 0) AS gpus FROM "Deployment" d
        WHERE d."userId" = u."userId" AND ${HOLDING}
      ) h
    )
    SELECT w."id" FROM waiting w JOIN users u ON u."userId" = w."userId"
    WHERE ((u.max_live <= 0 OR u.pods + w.n <= u.max_live) AND (u.max_gpus <= 0 OR u.gpus + w.gpus <= u.max_gpus))
      ${options.oldest ? Prisma.sql`OR w.wn = 1` : Prisma.empty}
    ORDER BY w."userId", w.n
    LIMIT ${options.limit ?? 1000}`);
  return rows.map((r) => r.id);
}

/**
 * A slot of this user freed (a pod terminated, a deployment closed before its pod): every waiting deployment that
 * now fits gets its deploy job at once (the same job id: never a second one; `revive` runs a completed one again).
 * Never throws: the monitor's pass wakes them a tick later if this fails.
 */
export async function wakeWaiting(
  deps: { prisma: PrismaClient; jobs: JobEnqueuer; logger: Logger; spend?: SpendSettings },
  userId: string,
): Promise<string[]> {
  if (!deps.spend) return [];
  try {
    const ids = await waitingToWake(deps.prisma, deps.spend, { userId });
    for (const id of ids) await deps.jobs.deploy(id, { revive: true });
    return ids;
  } catch (err) {
    deps.logger.warn("waking waiting deployments failed: the monitor's next tick wakes them", {
      userId,
      error: err instanceof Error ? err.message : String(err),
    });
    return [];
  }
}
