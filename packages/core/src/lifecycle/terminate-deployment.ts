import { AppError } from "../errors";
import { billedSeconds, podCost } from "../deployments/cost";
import { updateWithEvent } from "../deployments/state-machine";
import type { LifecycleDeps } from "./deps";
import { keepRunPodLogs } from "./failure-logs";

export type TerminateOutcome = "terminated" | "already-closed" | "no-pod";

/**
 * The terminate job: DELETE the pod (gone counts as done), then record podTerminatedAt,
 * runtime and cost (costPerHr × billed seconds), and revoke the deployment's tokens.
 * Errors from RunPod propagate, so BullMQ retries until RunPod confirms.
 */
export async function terminateDeployment(deps: LifecycleDeps, deploymentId: string, reason: string): Promise<TerminateOutcome> {
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId } });
  if (!d) throw new AppError("NOT_FOUND", `deployment ${deploymentId} does not exist`);
  if (d.podTerminatedAt !== null) return "already-closed";
  // the first call's time is kept: a later call that finds the pod gone (the first one's DELETE landed,
  // then its worker died before recording) bills up to it, not up to when it was noticed
  const callStart = deps.clock.now();
  const marked = await deps.prisma.$queryRaw<Array<{ at: Date }>>`
    UPDATE "Deployment" SET "terminateAttempts" = "terminateAttempts" + 1, "terminateRequestedAt" = COALESCE("terminateRequestedAt", ${callStart})
    WHERE "id" = ${d.id}::uuid AND "podTerminatedAt" IS NULL RETURNING "terminateRequestedAt" AS at`;
  const earlierCall = marked[0]?.at !== undefined && marked[0].at.getTime() < callStart.getTime() ? marked[0].at : null;
  if (d.podId === null) {
    // nothing ever billed: close it at zero, so it does not look like a pod still being terminated
    await deps.revokeTokens(d.id);
    // (an orphan reconcile already charged to it, created by a create whose answer was lost, is kept)
    await deps.prisma.$executeRaw`UPDATE "Deployment" SET "podTerminatedAt" = ${deps.clock.now()}, "runtimeSeconds" = 0, "costMicros" = COALESCE("costMicros", 0) WHERE "id" = ${d.id}::uuid AND "podId" IS NULL AND "podTerminatedAt" IS NULL`;
    return "no-pod";
  }
  await keepRunPodLogs(deps, d);
  const { alreadyGone } = await deps.runpod.terminatePod(d.podId);
  // tokens die before the deployment reads as closed: closed implies revoked
  await deps.revokeTokens(d.id);
  // gone during this call (a slow DELETE answered by its retry's 404): billed to now, as RunPod did;
  // gone before it (an earlier call's DELETE landed): billed to that call
  const now = alreadyGone && earlierCall !== null ? earlierCall : deps.clock.now();
  // the pod's dead-man switch deleted it (its last report says so): recorded, and still costed here
  const terminatedBy = alreadyGone && (await selfTerminated(deps, d.id)) ? "POD" : "WORKER";
  const seconds = d.podCreatedAt ? billedSeconds(d.podCreatedAt, now) : 0;
  const cost = podCost(d, now) ?? 0n;
  const recorded = await updateWithEvent(
    deps.prisma,
    { id: d.id, podTerminatedAt: null },
    { podTerminatedAt: now, runtimeSeconds: seconds, costMicros: cost },
    {
      type: "pod_terminated",
      message: `pod ${d.podId} terminated (${reason})`,
      data: {
        podId: d.podId,
        alreadyGone,
        terminatedBy,
        runtimeSeconds: seconds,
        costMicros: cost.toString(),
        reason,
        // gone before this call: the end lies between the earlier call and this one (RunPod's bill, read later, says exactly)
        ...(alreadyGone && earlierCall !== null ? { endEstimated: true, endBetween: [earlierCall.toISOString(), callStart.toISOString()] } : {}),
      },
    },
  );
  if (recorded) await deps.jobs.billing(d.id);
  if (recorded) deps.onPodTerminated?.({ deploymentId: d.id, status: d.status, finishedAt: d.finishedAt, terminatedAt: now, costMicros: cost });
  deps.logger.info("pod terminated", { deploymentId: d.id, podId: d.podId, reason, runtimeSeconds: seconds, costMicros: cost.toString() });
  return "terminated";
}

/** Did the pod report that it deletes itself (the start script's dead-man switch)? */
async function selfTerminated(deps: LifecycleDeps, deploymentId: string): Promise<boolean> {
  const rows = await deps.prisma.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM "DeploymentEvent"
    WHERE "deploymentId" = ${deploymentId}::uuid AND "type" = 'log' AND "data"::text LIKE '%self-terminating:%'`;
  return (rows[0]?.n ?? 0) > 0;
}
