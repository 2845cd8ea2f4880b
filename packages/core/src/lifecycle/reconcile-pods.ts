import { chargeStrayPod } from "./late-pod";
import { terminateLatePod } from "./terminate-late-pod";
import { TERMINAL_STATUSES } from "../deployment/state-machine";
import type { LifecycleDeps } from "./lifecycle-deps";

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
    orphans.push(pod.id);
    deps.logger.warn("orphan pod terminated", { podId: pod.id, podName: pod.name, deploymentId: owner?.id ?? null });
    // its owner closed during the create that made it: recorded on it BEFORE the DELETE, so a lost answer (or a
    // worker killed after it) loses neither the pod nor its cost; then terminated as any recorded pod
    // (RunPod's createdAt is a valid date: the client's pod schema checks it)
    const reason = "reconcile: its pod found after it closed";
    if (
      owner &&
      owner.podId === null &&
      owner.podTerminatedAt === null &&
      (await terminateLatePod(deps, owner.id, pod, new Date(pod.createdAt), "listed", reason))
    )
      continue;
    await deps.runpod.terminatePod(pod.id);
    if (owner) await chargeStrayPod(deps, owner, pod, "orphan_terminated");
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
