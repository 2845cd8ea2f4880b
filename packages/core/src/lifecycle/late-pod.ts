import type { Deployment } from "../db";
import { AppError } from "../errors";
import { costPerHrToMicros, type Pod } from "../runpod";
import { recordEvent, updateWithEvent } from "../deployment/state-machine";
import { chargeOrphanCost } from "../deployment/deployment-store";
import { billedSeconds, costForSeconds } from "../deployment/cost";
import { podName, type LifecycleDeps } from "./lifecycle-deps";

/**
 * A pod made for a deployment that closed while its create was out (a cancel during a slow create: issue 34):
 * recorded on the deployment, so it keeps holding its slot and its worst-case cost until the pod is terminated, and
 * the terminate job (retried like any) deletes it. One conditional UPDATE (no pod recorded, not terminated) plus
 * its event; false when another pod was recorded meanwhile or the termination is recorded already.
 */
export async function recordLatePod(
  deps: Pick<LifecycleDeps, "prisma">,
  deploymentId: string,
  pod: Pod,
  createdAt: Date,
  how: "answered" | "listed",
): Promise<boolean> {
  return updateWithEvent(
    deps.prisma,
    { id: deploymentId, podId: null, podTerminatedAt: null },
    {
      podId: pod.id,
      gpuTypeId: pod.gpu?.id ?? null,
      dataCenterId: pod.dataCenterId ?? null,
      costPerHrMicros: costPerHrToMicros(pod.cost),
      podCreatedAt: createdAt,
    },
    {
      type: "late_pod",
      message: `pod ${pod.id} ${how === "answered" ? "created" : "found"} after the deployment closed: terminating it`,
      data: { podId: pod.id, how, costPerHr: pod.cost },
    },
  );
}

/**
 * The terminate job on a deployment with no pod recorded although a create was tried: the pod is known gone only
 * once no create can still be out. While the deploy job runs (a create may be out) this throws a retryable error:
 * the terminate job comes back, and meanwhile the deploy job records a pod its create made (recordLatePod). After
 * it, RunPod is asked for the pod by name (a create whose answer was lost): found, it is recorded here and answered.
 * Undefined: the create made none, and the deployment may be closed without a pod.
 */
export async function podOfClosedCreate(
  deps: Pick<LifecycleDeps, "prisma" | "jobs" | "runpod" | "podNamePrefix" | "clock">,
  d: Deployment,
): Promise<Pod | undefined> {
  if ((await deps.jobs.deployRunning?.(d.id)) === true)
    throw new AppError("CONFLICT", `deployment ${d.id}'s pod create may still be out: terminated once it answers`, {
      retryable: true,
    });
  const name = podName(deps.podNamePrefix, d.id);
  const pod = (await deps.runpod.listPods({ name })).find((p) => p.status !== "TERMINATED");
  if (pod === undefined) return undefined;
  const createdAt = Number.isNaN(Date.parse(pod.createdAt))
    ? (d.podRequestedAt ?? deps.clock.now())
    : new Date(pod.createdAt);
  await recordLatePod(deps, d.id, pod, createdAt, "listed");
  return pod;
}

/**
 * A pod made for a deployment that recorded another pod, or closed without one (its create's pod was not listed
 * yet then), already DELETEd: its seconds are the owner's, added to its cost (from RunPod's createdAt at RunPod's
 * price) when the owner recorded no pod, with an event either way.
 */
export async function chargeStrayPod(
  deps: Pick<LifecycleDeps, "prisma" | "clock">,
  owner: { id: string; podId: string | null },
  pod: Pod,
  type: "orphan_terminated" | "duplicate_pod_terminated",
): Promise<void> {
  // RunPod's createdAt is a valid date (the client's pod schema checks it)
  const charged =
    owner.podId === null
      ? costForSeconds(costPerHrToMicros(pod.cost), billedSeconds(new Date(pod.createdAt), deps.clock.now()))
      : 0n;
  if (charged > 0n) await chargeOrphanCost(deps.prisma, owner.id, charged);
  await recordEvent(deps.prisma, owner.id, {
    type,
    message: `${type === "orphan_terminated" ? "orphan " : ""}pod ${pod.id} terminated`,
    data: { podId: pod.id, costMicros: charged.toString() },
  });
}
