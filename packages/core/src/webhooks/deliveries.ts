import type { PrismaClient } from "../db";
import type { Logger } from "../logging";
import type { SecretsKeyring } from "../secrets";
import type { Clock } from "../time/clock";
import { openAiId, unixSeconds } from "../openai/ids";
import { endpointSecret } from "./endpoints";
import { postWebhook } from "./post";
import { webhookEventId, webhookHeaders } from "./signing";
import type { WebhookUrlPolicy } from "./url-check";

/**
 * Webhook deliveries (issue 33). The worker's scan (the webhookScan job, every WEBHOOK_SCAN_INTERVAL_MS) finds the
 * jobs that ended since each endpoint was registered (within `windowMs`) with no delivery yet, and writes one per
 * endpoint (unique per endpoint and job: a second scan adds nothing). It runs after the outcome is committed, never
 * inside it: a slow or dead endpoint cannot hold a run or its pod's termination. Each delivery is then a job of the
 * webhook queue (its id the delivery's), retried with backoff; every attempt is a WebhookAttempt row.
 */
export interface ScanResult {
  created: number;
  /** pending deliveries to enqueue (new ones and any whose job may be lost) */
  pending: string[];
}

export async function scanWebhookDeliveries(
  prisma: PrismaClient,
  clock: Clock,
  opts: { windowMs: number; limit?: number },
): Promise<ScanResult> {
  const now = clock.now();
  const since = new Date(now.getTime() - opts.windowMs);
  const limit = opts.limit ?? 1000;
  const due = await prisma.$queryRaw<
    Array<{ endpointId: string; deploymentId: string; status: string; finishedAt: Date }>
  >`
    SELECT e."id" AS "endpointId", d."id" AS "deploymentId", d."status"::text AS status, d."finishedAt"
    FROM "WebhookEndpoint" e
    JOIN "Deployment" d ON d."userId" = e."userId"
    WHERE d."status" IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND d."finishedAt" >= ${since}
      AND d."finishedAt" >= e."createdAt"
      AND ('fine_tuning.job.' || lower(d."status"::text)) = ANY(e."eventTypes")
      AND NOT EXISTS (SELECT 1 FROM "WebhookDelivery" w WHERE w."endpointId" = e."id" AND w."deploymentId" = d."id")
    ORDER BY d."finishedAt"
    LIMIT ${limit}`;
  const { count } = await prisma.webhookDelivery.createMany({
    data: due.map((r) => {
      const type = `fine_tuning.job.${r.status.toLowerCase()}`;
      const eventId = webhookEventId(r.deploymentId, type);
      const payload = JSON.stringify({
        id: eventId,
        object: "event",
        type,
        created_at: unixSeconds(r.finishedAt),
        data: { id: openAiId("job", r.deploymentId) },
      });
      return {
        endpointId: r.endpointId,
        deploymentId: r.deploymentId,
        eventId,
        eventType: type,
        payload,
        createdAt: now,
      };
    }),
    skipDuplicates: true,
  });
  const pending = await prisma.webhookDelivery.findMany({
    where: { status: "pending", createdAt: { gte: since } },
    select: { id: true },
    orderBy: { createdAt: "asc" },
    take: limit,
  });
  return { created: count, pending: pending.map((p) => p.id) };
}

export interface DeliveryDeps {
  prisma: PrismaClient;
  clock: Clock;
  keyring: SecretsKeyring;
  policy: WebhookUrlPolicy;
  timeoutMs: number;
  logger?: Logger;
}

export type DeliveryOutcome = "delivered" | "skipped" | "retry" | "failed";

/**
 * One attempt of a delivery: signed afresh (Standard Webhooks headers, the event's id as webhook-id), POSTed, and
 * recorded. A 2xx answer marks it delivered; otherwise "retry" (the caller throws for BullMQ's backoff), or "failed"
 * on the last attempt. A delivery no longer pending (delivered already, its endpoint deleted) is skipped: a job run
 * twice sends nothing twice.
 */
export async function deliverWebhook(
  deps: DeliveryDeps,
  deliveryId: string,
  attempt: { number: number; last: boolean },
): Promise<DeliveryOutcome> {
  const d = await deps.prisma.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { endpoint: true } });
  if (!d || d.status !== "pending") return "skipped";
  const at = deps.clock.now();
  const headers = webhookHeaders(endpointSecret(deps.keyring, d.endpoint), d.eventId, unixSeconds(at), d.payload);
  const started = performance.now();
  const result = await postWebhook(d.endpoint.url, d.payload, headers, {
    policy: deps.policy,
    timeoutMs: deps.timeoutMs,
  });
  const durationMs = Math.round(performance.now() - started);
  const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
  const outcome: DeliveryOutcome = ok ? "delivered" : attempt.last ? "failed" : "retry";
  const error = result.error ?? (ok ? null : `answered HTTP ${result.statusCode}`);
  await deps.prisma.$transaction([
    deps.prisma.webhookAttempt.create({
      data: { deliveryId, attempt: attempt.number, at, statusCode: result.statusCode ?? null, error, durationMs },
    }),
    deps.prisma.webhookDelivery.updateMany({
      where: { id: deliveryId, status: "pending" },
      data: {
        attempts: { increment: 1 },
        lastAttemptAt: at,
        ...(outcome === "delivered" ? { status: "delivered", deliveredAt: deps.clock.now() } : {}),
        ...(outcome === "failed" ? { status: "failed" } : {}),
      },
    }),
  ]);
  if (!ok)
    deps.logger?.warn("webhook delivery not accepted", {
      deliveryId,
      endpointId: d.endpointId,
      attempt: attempt.number,
      statusCode: result.statusCode ?? null,
      error: result.error ?? null,
    });
  return outcome;
}
