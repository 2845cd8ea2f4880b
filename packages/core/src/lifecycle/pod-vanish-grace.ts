import type { Deployment } from "../db";

/** POD_VANISH_GRACE_SECONDS' default: a monitor without the setting waits this long too. */
export const DEFAULT_VANISH_GRACE_MS = 180_000;

/**
 * Is this pod too young to be judged gone for being missing? RunPod's spec promises no read-after-create
 * consistency: a listing "can lag or miss a pod" (shared/runpod-api.md), and nothing says GET
 * /v2/pods/{id} cannot answer 404 for a pod created moments ago. So within `graceMs` of its creation
 * (RunPod's createdAt as recorded, else the deploy's start), a pod that has not reported itself is
 * never failed POD_VANISHED on a miss, whether the listing's or the 404 of its read by id: the tick
 * judges it again, and once the grace has passed a 404 is believed. A pod that has reported itself
 * (RUNNING) existed beyond doubt, long enough for RunPod's reads to know it: its 404 counts at once,
 * as does a pod RunPod reports TERMINATED (an answer, not a miss). Waiting costs nothing: a pod that
 * is really gone no longer bills.
 */
export function tooYoungToVanish(
  d: Pick<Deployment, "status" | "podCreatedAt" | "provisioningAt">,
  now: Date,
  graceMs: number = DEFAULT_VANISH_GRACE_MS,
): boolean {
  if (d.status === "RUNNING") return false;
  const created = d.podCreatedAt ?? d.provisioningAt;
  return created !== null && now.getTime() - created.getTime() < graceMs;
}
