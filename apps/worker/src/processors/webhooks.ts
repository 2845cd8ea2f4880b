import type { Queue } from "bullmq";
import { deliverWebhook, enqueueWebhookDeliveries, scanWebhookDeliveries, type DeliveryDeps } from "@trainpod/core";
import type { Processor } from "../processor";

export interface WebhookProcessorDeps {
  delivery: DeliveryDeps;
  /** the webhook queue the scan adds deliveries to */
  queue: Queue;
  /** WEBHOOK_RETRY_DELAY_MS */
  retryDelayMs: number;
  /** how far back the scan looks for finished jobs */
  windowMs: number;
}

/** A day: a job that ended while no worker ran for longer gets no webhook. */
export const WEBHOOK_SCAN_WINDOW_MS = 24 * 3600_000;

/**
 * The webhook queue's one delivery attempt (not accepted: thrown, for BullMQ's backoff; the last attempt records the
 * failure and ends), and the scan that makes deliveries of finished jobs and queues them.
 */
export function webhookProcessors(deps: WebhookProcessorDeps): {
  webhook: Processor<"webhook">;
  webhookScan: Processor<"webhookScan">;
} {
  return {
    webhook: async ({ deliveryId }, { job }) => {
      const number = job.attemptsMade + 1;
      const outcome = await deliverWebhook(deps.delivery, deliveryId, {
        number,
        last: number >= (job.opts.attempts ?? 1),
      });
      if (outcome === "retry") throw new Error(`webhook delivery ${deliveryId} not accepted (attempt ${number})`);
      return outcome;
    },
    webhookScan: async () => {
      const scan = await scanWebhookDeliveries(deps.delivery.prisma, deps.delivery.clock, { windowMs: deps.windowMs });
      await enqueueWebhookDeliveries(deps.queue, scan.pending, deps.retryDelayMs);
      return { created: scan.created, pending: scan.pending.length };
    },
  };
}
