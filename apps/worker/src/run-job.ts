import { UnrecoverableError, type Job } from "bullmq";
import { AppError, isFinalError, parseJobPayload, type JobName, type Logger } from "@trainpod/core";
import type { ProcessorMap } from "./processor";

/**
 * Runs one job: re-validates its payload (an invalid one is never retried), calls the processor,
 * and turns final errors (core's isFinalError) into UnrecoverableError so BullMQ stops retrying them; any
 * other error is retried with the job's backoff while attempts remain.
 */
export async function runJob<N extends JobName>(
  name: N,
  job: Job,
  processors: ProcessorMap,
  logger: Logger,
  signal?: AbortSignal,
): Promise<unknown> {
  const log = logger.child({ queue: name, jobId: job.id, attempt: job.attemptsMade + 1 });
  let payload;
  try {
    payload = parseJobPayload(name, job.data);
  } catch (err) {
    log.error("invalid job payload, not retrying", { error: err instanceof Error ? err.message : String(err) });
    throw new UnrecoverableError(`invalid ${name} payload`);
  }
  const data = payload as { deploymentId?: string };
  const ctxLogger = data.deploymentId ? log.child({ deploymentId: data.deploymentId }) : log;
  try {
    return await (processors[name] as ProcessorMap[JobName])(payload as never, {
      job,
      logger: ctxLogger,
      signal: signal ?? new AbortController().signal,
    });
  } catch (err) {
    if (isFinalError(err)) {
      const code = err instanceof AppError ? err.code : "INTERNAL";
      const message = err instanceof Error ? err.message : String(err);
      ctxLogger.warn("job failed, final", { code, error: message });
      throw new UnrecoverableError(`${code}: ${message}`);
    }
    ctxLogger.warn("job failed, will retry if attempts remain", {
      error: err instanceof Error ? err.message : String(err),
    });
    throw err;
  }
}
