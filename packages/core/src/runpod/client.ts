import type { Pod, PodCreateInput, PodDesiredStatus } from "./schemas";

export interface ListPodsFilter {
  /**
   * Pods whose name starts with this. RunPod's `name` query filter is an exact match, so a
   * prefix is applied here, client-side, over the listing.
   */
  namePrefix?: string;
  /** exactly this name: sent as RunPod's `name` query filter, so the answer stays small */
  name?: string;
  /** sent to RunPod as the `desiredStatus` query filter */
  desiredStatus?: PodDesiredStatus;
}

export interface TerminateResult {
  /** true when RunPod no longer knew the pod or had already terminated it */
  alreadyGone: boolean;
}

/**
 * What trainpod needs from RunPod. Every method throws the typed errors of `./errors`
 * (AppError subclasses whose `retryable` says whether the caller's job may try again).
 */
export interface RunPodClient {
  /** POST /pods. Not retried after an ambiguous failure unless configured: see RunPodRestClient. */
  createPod(input: PodCreateInput): Promise<Pod>;
  /** GET /pods/{podId}; null when RunPod answers 404. */
  getPod(podId: string): Promise<Pod | null>;
  /** GET /pods (one call: v1 has no pagination), then the client-side filters. */
  listPods(filter?: ListPodsFilter): Promise<Pod[]>;
  /** POST /pods/{podId}/stop. The pod keeps billing for its volume; only terminate ends it. */
  stopPod(podId: string): Promise<void>;
  /** DELETE /pods/{podId}. Idempotent: an unknown or already terminated pod counts as done. */
  terminatePod(podId: string): Promise<TerminateResult>;
}
