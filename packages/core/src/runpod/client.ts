import type { CreatePodRequest, GpuType, Pod, PodBillingRecord, PodLogLine } from "./schemas";

export interface ListPodsFilter {
  /** pods whose name starts with this (v2 has no name filter: applied here, over the one listing) */
  namePrefix?: string;
  /** exactly this name */
  name?: string;
}

export interface TerminateResult {
  /** true when RunPod no longer knew the pod (404) */
  alreadyGone: boolean;
}

export interface GpuCatalogQuery {
  cloud?: "SECURE" | "COMMUNITY";
  /** GPUs per pod, for availability (default 1) */
  count?: number;
}

export interface PodLogQuery {
  /** omitted = both container and system lines */
  source?: "container" | "system";
  /** lines of backfill (RunPod's default 100, max 5000) */
  tail?: number;
  /** resume after this event id (Last-Event-ID) */
  lastEventId?: string;
  /** aborts the stream */
  signal: AbortSignal;
}

export interface RecentLogsOptions {
  /** lines per source (default 50) */
  tail?: number;
  /** stop reading a source after this long without a new line (default 300 ms): the backfill is over */
  idleMs?: number;
  /** stop reading after this long whatever happens (default 3000 ms) */
  maxMs?: number;
}

export interface PodBillingQuery {
  podId: string;
  startTime: Date;
  endTime: Date;
  bucketSize?: "hour" | "day" | "week" | "month" | "year";
}

/**
 * What trainpod needs from RunPod's REST API v2. Every method throws the typed errors of `./errors`
 * (AppError subclasses whose `retryable` says whether the caller's job may try again).
 */
export interface RunPodClient {
  /** POST /v2/pods: one GPU type per create. Not retried after an ambiguous failure (adopt by name instead). */
  createPod(input: CreatePodRequest): Promise<Pod>;
  /** GET /v2/pods/{id}; null when RunPod answers 404. */
  getPod(podId: string): Promise<Pod | null>;
  /**
   * GET /v2/pods (`{pods}`; a `nextCursor`, if RunPod ever pages, is followed), then the client-side filters. Each
   * pod is read on its own: one that does not fit is skipped (logged, counted), an unknown status is "unknown".
   */
  listPods(filter?: ListPodsFilter): Promise<Pod[]>;
  /** POST /v2/pods/{id}/action `stop`. The pod keeps billing for its volume; only terminate ends it. */
  stopPod(podId: string): Promise<void>;
  /** DELETE /v2/pods/{id}. Idempotent: an unknown pod (404) counts as done. */
  terminatePod(podId: string): Promise<TerminateResult>;
  /** GET /v2/catalog/gpus?include=AVAILABILITY&product=POD: list prices and current stock. */
  listGpuTypes(query?: GpuCatalogQuery): Promise<GpuType[]>;
  /** GET /v2/pods/{id}/logs: the SSE stream's lines, until the signal aborts or RunPod ends it. */
  podLogs(podId: string, query: PodLogQuery): AsyncGenerator<PodLogLine>;
  /** The last lines of both sources (system first, then container), read until each backfill goes quiet; [] when the pod is gone. */
  recentPodLogs(podId: string, options?: RecentLogsOptions): Promise<PodLogLine[]>;
  /** GET /v2/billing/pods?podId=: RunPod's own bill for one pod, per bucket. */
  podBilling(query: PodBillingQuery): Promise<PodBillingRecord[]>;
}
