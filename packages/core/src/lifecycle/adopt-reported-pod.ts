import type { PrismaClient } from "../db";
import { transition } from "../deployment/state-machine";
import { costPerHrToMicros, type RunPodClient } from "../runpod";
import type { Clock } from "../time/clock";
import { podName } from "./lifecycle-deps";

export interface AdoptReportedPodDeps {
  prisma: PrismaClient;
  clock: Clock;
  runpod: Pick<RunPodClient, "getPod">;
  podNamePrefix: string;
}

/**
 * A pod reported before its deployment recorded it (the worker that created it died before recording,
 * and its deploy job is held by the dead worker's lock for up to a minute). The report names the pod
 * (`RUNPOD_POD_ID`); it is adopted only when RunPod knows that pod and it carries this deployment's
 * unique name, and only for a deployment that is QUEUED with a create tried (`podRequestedAt`): one
 * conditional transition, as the deploy job's own adoption. The deploy job, when it runs again, finds
 * the pod recorded. Answers whether the deployment now has this pod.
 */
export async function adoptReportedPod(
  deps: AdoptReportedPodDeps,
  deploymentId: string,
  podId: string,
): Promise<boolean> {
  const d = await deps.prisma.deployment.findUnique({
    where: { id: deploymentId },
    select: { status: true, podId: true, podRequestedAt: true, attempts: true },
  });
  if (!d || d.status !== "QUEUED" || d.podId !== null || d.podRequestedAt === null) return false;
  const pod = await deps.runpod.getPod(podId).catch(() => null);
  if (pod === null || pod.name !== podName(deps.podNamePrefix, deploymentId)) return false;
  const createdAt = Number.isNaN(Date.parse(pod.createdAt)) ? d.podRequestedAt : new Date(pod.createdAt);
  return transition(deps.prisma, {
    deploymentId,
    from: ["QUEUED"],
    to: "PROVISIONING",
    set: {
      podId: pod.id,
      gpuTypeId: pod.gpu?.id ?? null,
      dataCenterId: pod.dataCenterId ?? null,
      costPerHrMicros: costPerHrToMicros(pod.cost),
      provisioningAt: deps.clock.now(),
      podCreatedAt: createdAt,
    },
    event: {
      type: "pod_adopted",
      message: `pod ${pod.id} adopted from its own report (its deploy job had not recorded it)`,
      data: { podId: pod.id, gpu: pod.gpu?.id ?? null, costPerHr: pod.cost, from: "pod report" },
    },
  });
}
