import type { Deployment, DeploymentEvent, PrismaClient } from "../db";
import { isTerminal } from "./state-machine";

/** Event ids are the rows' bigserial ids: monotonic, so "after id N" resumes a stream. */
export function parseLastEventId(value: unknown): bigint | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== "string" || !/^\d{1,18}$/.test(text.trim())) return null;
  return BigInt(text.trim());
}

/** The deployment's events with an id above `afterId`, oldest first, at most `limit`. */
export async function eventsAfter(prisma: PrismaClient, deploymentId: string, afterId: bigint, limit = 200): Promise<DeploymentEvent[]> {
  return prisma.deploymentEvent.findMany({ where: { deploymentId, id: { gt: afterId } }, orderBy: { id: "asc" }, take: limit });
}

/**
 * A timeline stream may end once the deployment reached its outcome and its pod is gone (or
 * it never had one): every event that tells the run's story has been written by then.
 */
export function timelineComplete(d: Pick<Deployment, "status" | "podId" | "podTerminatedAt">): boolean {
  return isTerminal(d.status) && (d.podTerminatedAt !== null || d.podId === null);
}
