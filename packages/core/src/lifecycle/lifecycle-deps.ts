import type { Deployment, PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import type { Logger } from "../logging";
import type { GpuCatalogQuery, GpuType, RunPodClient } from "../runpod";
import type { Clock } from "../time/clock";
import type { PodLauncher } from "../pod-launch/pod-launcher";
import type { PodLaunchSpec } from "../pod-launch/start-script";
import type { SpendSettings } from "../spend/settings";
import type { CacheDeps } from "../cache-volumes/deploy-cache";

/** What the pod gets: env (secrets travel here, never in the command) and its command (v2 `args`). */
export type PodLaunch = PodLaunchSpec;

/** The use cases' dependencies; the pod's launch (tokens, start script) is pod-launch's podLauncher, or a test's stand-in. */
export interface LifecycleDeps extends PodLauncher {
  prisma: PrismaClient;
  runpod: RunPodClient;
  clock: Clock;
  jobs: JobEnqueuer;
  logger: Logger;
  /** pods are named `${podNamePrefix}${deploymentId}` */
  podNamePrefix: string;
  /** how long "no capacity" is retried before FAILED / NO_CAPACITY */
  noCapacityMaxWaitMs: number;
  /** RunPod's GPU catalog with pod availability (cached for all workers); null when it cannot be read */
  gpuCatalog(query: Required<GpuCatalogQuery>): Promise<GpuType[] | null>;
  /** counts what the lifecycle did (a metric), e.g. ("deployment_failed", "INSUFFICIENT_BALANCE") */
  onAction?: (action: string, reason: string) => void;
  /** told of each confirmed pod termination (metrics: failure-to-termination latency, cost) */
  onPodTerminated?: (info: PodTerminatedInfo) => void;
  /** budgets and per-user slots (docs/spend-control.md); absent: every deployment starts at once */
  spend?: SpendSettings;
  /** the operators' cache volumes (issue 28: cache-volumes/); absent: no pod mounts one */
  cache?: CacheDeps;
}

/** A pod's termination, as the terminate use case recorded it. */
export interface PodTerminatedInfo {
  deploymentId: string;
  status: Deployment["status"];
  /** when the deployment reached its terminal state (the failed report or event), if it had */
  finishedAt: Date | null;
  terminatedAt: Date;
  costMicros: bigint;
}

export function podName(prefix: string, deploymentId: string): string {
  return `${prefix}${deploymentId}`;
}
