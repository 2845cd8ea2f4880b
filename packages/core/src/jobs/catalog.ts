import { z } from "zod";
import type { JobsOptions } from "bullmq";

/** Every queue trainpod runs. One queue per job kind keeps retries and concurrency separate. */
export const JOB_NAMES = [
  "deploy",
  "terminate",
  "billing",
  "monitor",
  "reconcile",
  "maintenance",
  "webhook",
  "webhookScan",
] as const;
export type JobName = (typeof JOB_NAMES)[number];

const deploymentRef = z.object({ deploymentId: z.string().uuid() });

export const jobPayloadSchemas = {
  deploy: deploymentRef,
  terminate: deploymentRef.extend({
    /** why the pod is being terminated, for the event timeline */
    reason: z.string().max(200).default("requested"),
  }),
  billing: deploymentRef,
  monitor: z.object({}).passthrough(),
  reconcile: z.object({}).passthrough(),
  maintenance: z.object({}).passthrough(),
  /** one webhook delivery (issue 33: packages/core/src/webhooks) */
  webhook: z.object({ deliveryId: z.string().uuid() }),
  webhookScan: z.object({}).passthrough(),
} satisfies Record<JobName, z.ZodType>;

export type JobPayload<N extends JobName> = z.infer<(typeof jobPayloadSchemas)[N]>;
export type JobInput<N extends JobName> = z.input<(typeof jobPayloadSchemas)[N]>;

export interface JobDefinition {
  /** default options of every job added to this queue */
  options: JobsOptions;
  /** jobs of this queue processed at once by one worker process */
  concurrency: (workerConcurrency: number) => number;
  /** repeat interval config key for scheduled jobs */
  schedule?: "MONITOR_INTERVAL_MS" | "RECONCILE_INTERVAL_MS" | "MAINTENANCE_INTERVAL_MS" | "WEBHOOK_SCAN_INTERVAL_MS";
}

const keep = { removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } };

/** Retry and concurrency rules of each job, in one place (docs/design.md, "Jobs and queues"). */
export const jobCatalog: Record<JobName, JobDefinition> = {
  deploy: {
    // 12 attempts: 11 waits doubling from 2 s (the last 34 min 8 s) come to 68 min 14 s at most; the jitter of
    // 0.5 makes each between half and all of its length, so 34–68 min in all (about 51 on average: catalog.test.ts).
    // NO_CAPACITY_MAX_WAIT_MINUTES (default 30, counted from the first create) ends a wait for capacity before they
    // run out; set above 34, the attempts may end it first (FAILED / NO_CAPACITY all the same)
    options: { ...keep, attempts: 12, backoff: { type: "exponential", delay: 2_000, jitter: 0.5 } },
    concurrency: (n) => n,
  },
  terminate: {
    options: { ...keep, attempts: 25, backoff: { type: "exponential", delay: 500, jitter: 0.5 } },
    concurrency: (n) => n,
  },
  billing: {
    // RunPod's billing lags: the first read is delayed and each retry waits longer (delay and backoff
    // are set per job from BILLING_DELAY_MS / BILLING_RETRY_DELAY_MS); 10 attempts span hours
    options: { ...keep, attempts: 10, backoff: { type: "exponential", delay: 60_000, jitter: 0.2 } },
    concurrency: () => 2,
  },
  monitor: {
    options: { removeOnComplete: 100, removeOnFail: 500, attempts: 1 },
    concurrency: () => 1,
    schedule: "MONITOR_INTERVAL_MS",
  },
  reconcile: {
    options: { removeOnComplete: 100, removeOnFail: 500, attempts: 1 },
    concurrency: () => 1,
    schedule: "RECONCILE_INTERVAL_MS",
  },
  maintenance: {
    options: { removeOnComplete: 100, removeOnFail: 500, attempts: 1 },
    concurrency: () => 1,
    schedule: "MAINTENANCE_INTERVAL_MS",
  },
  webhook: {
    // 10 attempts; the backoff is set per job from WEBHOOK_RETRY_DELAY_MS (doubling: 10 s first, about 85 min in all)
    options: { ...keep, attempts: 10, backoff: { type: "exponential", delay: 10_000, jitter: 0.2 } },
    concurrency: (n) => n,
  },
  webhookScan: {
    options: { removeOnComplete: 100, removeOnFail: 500, attempts: 1 },
    concurrency: () => 1,
    schedule: "WEBHOOK_SCAN_INTERVAL_MS",
  },
};

/** Job ids that make duplicates impossible: BullMQ ignores an add whose id already exists. */
export const jobIds = {
  deploy: (deploymentId: string) => deploymentId,
  // BullMQ 6 refuses ":" in custom job ids, so the terminate job's id is spelt `terminate-<id>`
  terminate: (deploymentId: string) => `terminate-${deploymentId}`,
  billing: (deploymentId: string) => `billing-${deploymentId}`,
  webhook: (deliveryId: string) => `webhook-${deliveryId}`,
};

/** Validates a payload taken off a queue; throws the zod error when it does not fit. */
export function parseJobPayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return jobPayloadSchemas[name].parse(data) as JobPayload<N>;
}
