import type { Deployment, DeploymentEvent, PrismaClient } from "../db";
import { isTerminal } from "../deployment/state-machine";

/** Event ids are the rows' bigserial ids: monotonic, so "after id N" resumes a stream. */
export function parseLastEventId(value: unknown): bigint | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== "string" || !/^\d{1,18}$/.test(text.trim())) return null;
  return BigInt(text.trim());
}

/** The deployment's events with an id above `afterId`, oldest first, at most `limit`. */
export async function eventsAfter(
  prisma: PrismaClient,
  deploymentId: string,
  afterId: bigint,
  limit = 200,
): Promise<DeploymentEvent[]> {
  return prisma.deploymentEvent.findMany({
    where: { deploymentId, id: { gt: afterId } },
    orderBy: { id: "asc" },
    take: limit,
  });
}

/**
 * A timeline stream may end once the deployment reached its outcome and its pod is gone (or
 * no create was ever tried for it): every event that tells the run's story has been written by then.
 */
export function timelineComplete(
  d: Pick<Deployment, "status" | "podId" | "podRequestedAt" | "podTerminatedAt">,
): boolean {
  // no pod recorded but a create tried: complete only once the terminate job knows no pod is out (a late pod's
  // cost, or an orphan's, is still to come until then)
  return isTerminal(d.status) && (d.podTerminatedAt !== null || (d.podId === null && d.podRequestedAt === null));
}

/**
 * Reads one deployment's timeline in order without losing events. Ids come from a sequence at
 * INSERT time, but transactions commit in any order: an event with a smaller id can become visible
 * after a larger one was read. So the cursor keeps reading from the last SETTLED id, skips the ids it
 * has already delivered, and counts an id as settled once it is `settleMs` old (a transaction that
 * took an id before it has committed by then, or rolled back).
 */
export class TimelineCursor {
  private settledId: bigint;
  /** delivered ids above settledId → their createdAt (ms) */
  private readonly recent = new Map<bigint, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly deploymentId: string,
    afterId: bigint,
    private readonly now: () => Date,
    private readonly settleMs = 5_000,
  ) {
    this.settledId = afterId;
  }

  /** Events not delivered yet, at most `limit`, oldest id first. */
  async next(limit: number): Promise<DeploymentEvent[]> {
    return this.accept(await eventsAfter(this.prisma, this.deploymentId, this.settledId, this.fetchSize(limit)), limit);
  }

  /** Where a read for this cursor starts: events with an id above this. */
  get after(): bigint {
    return this.settledId;
  }

  /** How many rows (oldest first, above `after`) a read must fetch to find `limit` undelivered ones. */
  fetchSize(limit: number): number {
    return limit + this.recent.size;
  }

  /** Takes rows read above `after` (oldest first, at most fetchSize(limit)) and returns those not delivered yet. */
  accept(rows: DeploymentEvent[], limit: number): DeploymentEvent[] {
    const fresh = rows.filter((e) => !this.recent.has(e.id)).slice(0, limit);
    for (const e of fresh) {
      this.recent.set(e.id, e.createdAt.getTime());
    }
    const horizon = this.now().getTime() - this.settleMs;
    for (const id of [...this.recent.keys()].sort((a, b) => (a < b ? -1 : 1))) {
      if ((this.recent.get(id) ?? 0) > horizon) break;
      this.settledId = id;
      this.recent.delete(id);
    }
    return fresh;
  }
}
