import { AppError } from "../errors";
import { billedSeconds, podCost } from "../deployment/cost";
import { closeWithoutPod, markTerminateRequested, reportedSelfTermination } from "../deployment/deployment-store";
import { updateWithEvent } from "../deployment/state-machine";
import type { LifecycleDeps } from "./lifecycle-deps";
import { keepRunPodLogs } from "./keep-runpod-logs";
import { podOfClosedCreate } from "./late-pod";
import { wakeWaiting } from "../spend/wake-waiting";
import { resumeAfterPodLoss } from "./resume-deployment";

export type TerminateOutcome = "terminated" | "already-closed" | "no-pod";

/**
 * The terminate job: DELETE the pod (gone counts as done), then record podTerminatedAt,
 * runtime and cost (costPerHr × billed seconds), and revoke the deployment's tokens.
 * Errors from RunPod propagate, so BullMQ retries until RunPod confirms.
 */
export async function terminateDeployment(
  deps: LifecycleDeps,
  deploymentId: string,
  reason: string,
): Promise<TerminateOutcome> {
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId } });
  if (!d) throw new AppError("NOT_FOUND", `deployment ${deploymentId} does not exist`);
  if (d.podTerminatedAt !== null) {
    await resumeAfterPodLoss(deps, d.id); // a repeated job after a resume that failed: one resume of each (issue 27)
    return "already-closed";
  }
  // a create was tried and no pod is recorded: closed without one only once no create can still be out (issue 34);
  // a pod found by its name is recorded, then terminated as any
  if (d.podId === null && d.podRequestedAt !== null && (await podOfClosedCreate(deps, d)) !== undefined)
    return terminateDeployment(deps, deploymentId, reason);
  // the first call's time is kept: a later call that finds the pod gone (the first one's DELETE landed,
  // then its worker died before recording) bills up to it, not up to when it was noticed
  const callStart = deps.clock.now();
  const firstCall = await markTerminateRequested(deps.prisma, d.id, callStart);
  const earlierCall = firstCall !== undefined && firstCall.getTime() < callStart.getTime() ? firstCall : null;
  if (d.podId === null) {
    // nothing ever billed: close it at zero, so it does not look like a pod still being terminated
    await deps.revokeTokens(d.id);
    // (an orphan reconcile already charged to it, created by a create whose answer was lost, is kept)
    await closeWithoutPod(deps.prisma, d.id, deps.clock.now());
    await wakeWaiting(deps, d.userId); // it no longer waits ahead of (or holds a slot for) the user's later ones
    await resumeAfterPodLoss(deps, d.id); // autoResume: "no capacity" for an attempt that replaced a lost pod
    return "no-pod";
  }
  await keepRunPodLogs(deps, d);
  const { alreadyGone } = await deps.runpod.terminatePod(d.podId);
  // the pod stopped billing by RunPod's answer: the worker's own writes after it (the chaos run saw 1.4 s of them on
  // a busy database) are not the pod's
  const answeredAt = deps.clock.now();
  // tokens die before the deployment reads as closed: closed implies revoked
  await deps.revokeTokens(d.id);
  // gone during this call (a slow DELETE answered by its retry's 404): billed to its answer, as RunPod did;
  // gone before it (an earlier call's DELETE landed): billed to that call
  const now = alreadyGone && earlierCall !== null ? earlierCall : answeredAt;
  // the pod's dead-man switch deleted it (its last report says so): recorded, and still costed here
  const terminatedBy = alreadyGone && (await reportedSelfTermination(deps.prisma, d.id)) ? "POD" : "WORKER";
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
        // found gone: the end lies between the earlier call and this one's answer (a concurrent call's DELETE may have
        // landed while this one was out; RunPod's bill, read later, says exactly)
        ...(alreadyGone && earlierCall !== null
          ? { endEstimated: true, endBetween: [earlierCall.toISOString(), answeredAt.toISOString()] }
          : {}),
      },
    },
  );
  if (recorded) await deps.jobs.billing(d.id);
  if (recorded) await wakeWaiting(deps, d.userId); // its slot is free: the user's waiting deployments that now fit start
  if (recorded)
    deps.onPodTerminated?.({
      deploymentId: d.id,
      status: d.status,
      finishedAt: d.finishedAt,
      terminatedAt: now,
      costMicros: cost,
    });
  // autoResume (issue 27): the next attempt only now, with this pod gone: one pod live at any time
  await resumeAfterPodLoss(deps, d.id);
  deps.logger.info("pod terminated", {
    deploymentId: d.id,
    podId: d.podId,
    reason,
    runtimeSeconds: seconds,
    costMicros: cost.toString(),
  });
  return "terminated";
}
