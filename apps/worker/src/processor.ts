import type { Job } from "bullmq";
import type { JobName, JobPayload, Logger } from "@trainpod/core";

export interface ProcessorContext {
  job: Job;
  logger: Logger;
  /** aborted when the worker shuts down past its grace period */
  signal: AbortSignal;
}

/** A processor gets a payload already validated against the job catalog. */
export type Processor<N extends JobName> = (payload: JobPayload<N>, ctx: ProcessorContext) => Promise<unknown>;

/** One processor per job name: a missing one does not compile. */
export type ProcessorMap = { [N in JobName]: Processor<N> };
