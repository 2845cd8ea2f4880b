import type { FailureReason, Prisma } from "../db";
import { transition } from "../deployments/state-machine";
import type { LifecycleDeps } from "./deps";

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
