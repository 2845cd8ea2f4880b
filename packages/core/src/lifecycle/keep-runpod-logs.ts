import type { Deployment } from "../db";
import { updateWithEvent } from "../deployment/state-machine";
import { formatLogLine } from "../runpod";
import type { LifecycleDeps } from "./lifecycle-deps";

/** Lines of each RunPod log source kept for a failure trainpod saw from outside the pod. */
export const FAILURE_LOG_TAIL = 50;

/**
 * A deployment that failed without the pod's own `failed` report (ERROR, a silent exit, a setup
 * or heartbeat timeout, a vanished pod) would leave its "last log lines" empty, and an image that
 * cannot be pulled says why only in RunPod's system log. So before its pod is deleted, the last
 * lines of both sources are read from GET /v2/pods/{id}/logs and kept: appended to the failure
 * message (what the dashboard shows) and as one `runpod_logs` event. Never blocks termination for
 * long, and never fails it: an unreadable log is a warning.
 */
export async function keepRunPodLogs(
  deps: LifecycleDeps,
  d: Pick<Deployment, "id" | "status" | "podId" | "failureMessage">,
): Promise<number> {
  if (d.status !== "FAILED" || d.podId === null) return 0;
  const reported = await deps.prisma.deploymentEvent.findFirst({
    where: { deploymentId: d.id, type: { in: ["failed", "runpod_logs"] } },
    orderBy: { id: "desc" },
    select: { type: true, data: true },
  });
  if (reported?.type === "runpod_logs" || hasPodLines(reported?.data)) return 0;
  let lines: string[];
  try {
    lines = (await deps.runpod.recentPodLogs(d.podId, { tail: FAILURE_LOG_TAIL, idleMs: 300, maxMs: 2_000 })).map(
      formatLogLine,
    );
  } catch (err) {
    deps.logger.warn("could not read the failed pod's RunPod logs", {
      deploymentId: d.id,
      podId: d.podId,
      error: err instanceof Error ? err.message : String(err),
    });
    return 0;
  }
  const message = [d.failureMessage ?? "", ...lines]
    .filter((l) => l !== "")
    .join("\n")
    .slice(-20_000);
  await updateWithEvent(
    deps.prisma,
    { id: d.id },
    { failureMessage: message },
    {
      type: "runpod_logs",
      message: `${lines.length} lines of RunPod's logs kept before termination`,
      data: { podId: d.podId, lines },
    },
  );
  return lines.length;
}

/** The pod's own failed report carries its last lines (`lastLines`); then RunPod's are not needed. */
function hasPodLines(data: unknown): boolean {
  if (typeof data !== "object" || data === null) return false;
  const lines = (data as { lastLines?: unknown }).lastLines;
  return Array.isArray(lines) && lines.length > 0;
}
