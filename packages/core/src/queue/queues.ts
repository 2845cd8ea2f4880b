import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { JOB_NAMES, jobCatalog, type JobName } from "../jobs/catalog";

export type Queues = Record<JobName, Queue>;

/**
 * One BullMQ Queue per job name, sharing a connection and the configured prefix. Connection errors
 * go to `onError` (BullMQ prints them to the console when nobody listens).
 */
export function createQueues(
  connection: Redis,
  prefix: string,
  onError: (err: Error) => void = () => undefined,
): Queues {
  const entries = JOB_NAMES.map((name) => {
    const queue = new Queue(name, { connection, prefix, defaultJobOptions: jobCatalog[name].options });
    queue.on("error", onError);
    return [name, queue];
  });
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}
