import type { Queue } from "bullmq";
import { jobIds } from "../jobs/catalog";

/**
 * Adds a webhook job per delivery, its id the delivery's (BullMQ ignores an add whose id exists: a delivery is never
 * queued twice), its retries backing off from `retryDelayMs`.
 */
export async function enqueueWebhookDeliveries(
  queue: Queue,
  deliveryIds: string[],
  retryDelayMs: number,
): Promise<void> {
  if (deliveryIds.length === 0) return;
  await queue.addBulk(
    deliveryIds.map((deliveryId) => ({
      name: "webhook",
      data: { deliveryId },
      opts: { jobId: jobIds.webhook(deliveryId), backoff: { type: "exponential", delay: retryDelayMs, jitter: 0.2 } },
    })),
  );
}
