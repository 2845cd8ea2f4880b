import type { Pod } from "../runpod";
import type { LifecycleDeps } from "./lifecycle-deps";
import { recordLatePod } from "./late-pod";
import { terminateDeployment } from "./terminate-pod";

/**
 * A closed deployment's own pod that it never recorded (a create answered after a cancel, or found by its name):
 * recorded on it as a late pod, then terminated by the terminate use case (DELETE, runtime and cost in one
 * conditional record); a failure there is left to the terminate job, which finds the pod gone and bills it to the
 * first call. False: another pod or the termination was recorded meanwhile (nothing done here).
 */
export async function terminateLatePod(
  deps: LifecycleDeps,
  deploymentId: string,
  pod: Pod,
  createdAt: Date,
  how: "answered" | "listed",
  reason: string,
): Promise<boolean> {
  if (!(await recordLatePod(deps, deploymentId, pod, createdAt, how))) return false;
  try {
    await terminateDeployment(deps, deploymentId, reason);
  } catch (err) {
    deps.logger.warn("a late pod's termination failed: the terminate job retries it", {
      deploymentId,
      podId: pod.id,
      error: err instanceof Error ? err.message : String(err),
    });
    await deps.jobs.terminate(deploymentId, reason, { revive: true });
  }
  return true;
}
