import { AppError } from "../errors";
import type { Deployment, FailureReason, Prisma } from "../db";
import { costPerHrToMicros, NoCapacityError, type Pod } from "../runpod";
import { billedSeconds, costForSeconds } from "../deployments/cost";
import { isTerminal, recordEvent, transition, updateWithEvent } from "../deployments/state-machine";
import { podName, type LifecycleDeps } from "./deps";

export type DeployOutcome = "provisioned" | "adopted" | "already-provisioned" | "skipped-closed" | "lost-race";

/**
 * The deploy job. Idempotent: a deployment with a pod, or whose named pod already exists
 * (a crash between create and record), adopts it; a second pod is never created.
 */
export async function deployDeployment(deps: LifecycleDeps, deploymentId: string, attempt: number): Promise<DeployOutcome> {
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId } });
  if (!d) throw new AppError("NOT_FOUND", `deployment ${deploymentId} does not exist`);
  if (isTerminal(d.status)) return "skipped-closed";
  if (d.podId !== null) return "already-provisioned";
  const name = podName(deps.podNamePrefix, d.id);
  const existing = (await deps.runpod.listPods({ name }))[0];
  if (existing) return (await recordPod(deps, d, existing, attempt, true)) ? "adopted" : "lost-race";
  const launch = await deps.buildLaunch(d);
  let pod: Pod;
  try {
    pod = await deps.runpod.createPod({
      name,
      imageName: d.imageName,
      gpuTypeIds: d.gpuTypeIds,
      gpuTypePriority: "custom",
      gpuCount: d.gpuCount,
      cloudType: d.cloudType,
      computeType: "GPU",
      containerDiskInGb: d.containerDiskInGb,
      volumeInGb: d.volumeInGb,
      volumeMountPath: "/workspace",
      env: launch.env,
      dockerEntrypoint: launch.dockerEntrypoint,
      dockerStartCmd: launch.dockerStartCmd,
    });
  } catch (err) {
    if (err instanceof NoCapacityError) await noCapacity(deps, d, attempt);
    throw err;
  }
  return (await recordPod(deps, d, pod, attempt, false)) ? "provisioned" : "lost-race";
}

async function recordPod(deps: LifecycleDeps, d: Deployment, pod: Pod, attempt: number, adopted: boolean): Promise<boolean> {
  const now = deps.clock.now();
  const ok = await transition(deps.prisma, {
    deploymentId: d.id,
    from: ["QUEUED"],
    to: "PROVISIONING",
    set: {
      podId: pod.id,
      gpuTypeId: pod.gpu?.id ?? d.gpuTypeIds[0] ?? null,
      costPerHrMicros: costPerHrToMicros(pod.costPerHr),
      provisioningAt: now,
      podCreatedAt: now,
      attempts: attempt,
    },
    event: { type: adopted ? "pod_adopted" : "pod_created", message: `pod ${pod.id}`, data: { podId: pod.id, gpu: pod.gpu?.id ?? null, costPerHr: pod.costPerHr } },
  });
  if (!ok) await terminateUnrecorded(deps, d.id, pod, now);
  return ok;
}

/**
 * The deployment closed (cancelled, failed) while its pod was being created: the pod must not keep
 * billing. Terminated here, not by a terminate job, which may already have closed the deployment.
 */
async function terminateUnrecorded(deps: LifecycleDeps, deploymentId: string, pod: Pod, createdAt: Date): Promise<void> {
  const current = await deps.prisma.deployment.findUnique({ where: { id: deploymentId }, select: { podId: true } });
  if (current?.podId === pod.id) return; // a second deploy run adopted the pod the first one recorded
  await deps.runpod.terminatePod(pod.id);
  const now = deps.clock.now();
  const perHr = costPerHrToMicros(pod.costPerHr);
  const seconds = billedSeconds(createdAt, now);
  const recorded = await updateWithEvent(
    deps.prisma,
    { id: deploymentId, podId: null },
    { podId: pod.id, costPerHrMicros: perHr, podCreatedAt: createdAt, podTerminatedAt: now, runtimeSeconds: seconds, costMicros: costForSeconds(perHr, seconds) },
    { type: "pod_terminated", message: `pod ${pod.id} created after the deployment closed; terminated`, data: { podId: pod.id } },
  );
  // another worker recorded its own pod: this one is terminated all the same, and said so
  if (!recorded) await recordEvent(deps.prisma, deploymentId, { type: "duplicate_pod_terminated", message: `pod ${pod.id} terminated`, data: { podId: pod.id } });
}

/** Past the configured wait, "no capacity" is final: FAILED / NO_CAPACITY. Before it, the job retries. */
async function noCapacity(deps: LifecycleDeps, d: Deployment, attempt: number): Promise<void> {
  const waited = deps.clock.now().getTime() - d.createdAt.getTime();
  await deps.prisma.deployment.update({ where: { id: d.id }, data: { attempts: attempt, capacityWaits: { increment: 1 } } });
  if (waited < deps.noCapacityMaxWaitMs) return;
  await failDeployment(deps, d.id, "NO_CAPACITY", `no capacity for ${d.gpuTypeIds.join(", ")} after ${Math.round(waited / 1000)} s`);
  throw new AppError("RUNPOD_NO_CAPACITY", "no capacity; gave up", { retryable: false });
}

/** Marks a live deployment FAILED with a reason, and asks for its pod's termination. */
export async function failDeployment(
  deps: Pick<LifecycleDeps, "prisma" | "clock" | "jobs">,
  deploymentId: string,
  reason: FailureReason,
  message: string,
  extra: { exitCode?: number; data?: Prisma.InputJsonValue } = {},
): Promise<boolean> {
  const now = deps.clock.now();
  const ok = await transition(deps.prisma, {
    deploymentId,
    to: "FAILED",
    failureReason: reason,
    set: { failureMessage: message.slice(0, 20_000), finishedAt: now, ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}) },
    event: { type: "failed", message: `${reason}: ${message.slice(0, 500)}`, data: extra.data ?? { reason } },
  });
  if (ok) await deps.jobs.terminate(deploymentId, reason);
  return ok;
}
