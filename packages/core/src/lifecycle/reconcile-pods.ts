import { chargeOrphanCost } from "../deployment/deployment-store";
import { recordEvent, TERMINAL_STATUSES } from "../deployment/state-machine";
import type { LifecycleDeps } from "./lifecycle-deps";
import { billedSeconds, costForSeconds } from "../deployment/cost";
import { costPerHrToMicros, type Pod } from "../runpod";

export interface ReconcileResult {
  pods: number;
  orphansTerminated: string[];
  terminationsRequeued: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Nothing left running without an owner: pods named with our prefix that belong to no live
 * deployment (unknown id, another pod recorded, or already closed) are terminated; closed
 * deployments whose pod termination is not confirmed (or whose create is not known to have made none) get their
 * terminate job again.
 */
export async function reconcile(deps: LifecycleDeps): Promise<ReconcileResult> {
  const listedAt = deps.clock.now();
  const pods = await deps.runpod.listPods({ namePrefix: deps.podNamePrefix });
  const ids = pods.map((p) => p.name.slice(deps.podNamePrefix.length)).filter((id) => UUID.test(id));
  const owners = await deps.prisma.deployment.findMany({
    where: { id: { in: ids } },
    select: { id: true, podId: true, podTerminatedAt: true, status: true },
  });
  const byId = new Map(owners.map((d) => [d.id, d]));
  const orphans: string[] = [];
  for (const pod of pods) {
    if (pod.status === "TERMINATED") continue;
    const owner = byId.get(pod.name.slice(deps.podNamePrefix.length));
    const adoptable = owner && owner.podId === null && !TERMINAL_STATUSES.includes(owner.status);
    if (adoptable || (owner && owner.podId === pod.id && owner.podTerminatedAt === null)) continue;
    // its own terminate job ended it after the listing was taken: not an orphan (the chaos run caught this race)
    if (owner && owner.podId === pod.id && owner.podTerminatedAt !== null && owner.podTerminatedAt >= listedAt)
      continue;
    await deps.runpod.terminatePod(pod.id);
    orphans.push(pod.id);
    if (owner) await chargeOrphan(deps, owner, pod);
    deps.logger.warn("orphan pod terminated", { podId: pod.id, podName: pod.name, deploymentId: owner?.id ?? null });
  }
  const unclosed = await deps.prisma.deployment.findMany({
    // a pod recorded, or a create tried (its pod not known gone yet: it holds the user's slot until then)
    where: {
      status: { in: [...TERMINAL_STATUSES] },
      podTerminatedAt: null,
      OR: [{ podId: { not: null } }, { podRequestedAt: { not: null } }],
    },
    select: { id: true },
    take: 1000,
  });
  for (const { id } of unclosed) await deps.jobs.terminate(id, "reconcile", { revive: true });
  return { pods: pods.length, orphansTerminated: orphans, terminationsRequeued: unclosed.length };
}

/**
 * An orphan with an owner: a pod created for a deployment that closed before it could record one (a create
 * whose answer was lost, then a cancel). Its seconds are the owner's: added to its cost (from RunPod's
 * createdAt at RunPod's price) when the owner recorded no pod, with an event either way.
 */
async function chargeOrphan(deps: LifecycleDeps, owner: { id: string; podId: string | null }, pod: Pod): Promise<void> {
  const createdAt = new Date(pod.createdAt);
  const cost = Number.isNaN(createdAt.getTime())
    ? 0n
    : costForSeconds(costPerHrToMicros(pod.cost), billedSeconds(createdAt, deps.clock.now()));
  const charged = owner.podId === null ? cost : 0n;
  if (charged > 0n) await chargeOrphanCost(deps.prisma, owner.id, charged);
  await recordEvent(deps.prisma, owner.id, {
    type: "orphan_terminated",
    message: `orphan pod ${pod.id} terminated`,
    data: { podId: pod.id, costMicros: charged.toString() },
  });
}
