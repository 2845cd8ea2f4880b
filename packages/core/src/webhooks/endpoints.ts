import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { PrismaClient } from "../db";
import type { Prisma } from "../db";
import { AppError } from "../errors";
import { openSecret, sealSecret, type SecretsKeyring } from "../secrets";
import type { Clock } from "../time/clock";
import { openAiId, trainpodId, unixSeconds } from "../openai/ids";
import { newSigningSecret, secretHint } from "./signing";
import { checkWebhookUrl, type WebhookUrlPolicy } from "./url-check";

/** The events an endpoint may ask for: a fine-tuning job's outcomes. */
export const WEBHOOK_EVENTS = [
  "fine_tuning.job.succeeded",
  "fine_tuning.job.failed",
  "fine_tuning.job.cancelled",
] as const;

/** An endpoint's signing secret is sealed like a user's secret, bound to its endpoint (copied elsewhere, it fails). */
export const endpointSecretOwner = (e: { id: string; userId: string }) => ({
  userId: e.userId,
  name: `webhook:${e.id}`,
});

export interface EndpointDeps {
  prisma: PrismaClient;
  clock: Clock;
  keyring: SecretsKeyring;
  policy: WebhookUrlPolicy;
}

/** A user's endpoints at most (each one a delivery per finished job). */
export const MAX_ENDPOINTS_PER_USER = 20;

/** POST /openai/v1/webhook_endpoints: the request body (the OpenAPI document shows it). */
export const webhookEndpointInputSchema = z
  .object({
    url: z.string().min(1).max(2000),
    name: z.string().min(1).max(200).optional(),
    event_types: z.array(z.string()).min(1).max(WEBHOOK_EVENTS.length).optional(),
  })
  .strict();

type EndpointRow = Prisma.WebhookEndpointGetPayload<object>;

/** An endpoint as OpenAI's webhook_endpoint object (never its secret). */
export function endpointObject(e: EndpointRow) {
  return {
    id: openAiId("endpoint", e.id),
    object: "webhook_endpoint" as const,
    created_at: unixSeconds(e.createdAt),
    updated_at: unixSeconds(e.updatedAt),
    name: e.name,
    url: e.url,
    event_types: e.eventTypes,
    signing_secret_hint: e.secretHint,
  };
}

function firstIssue(err: z.ZodError): AppError {
  const issue = err.issues[0];
  const keys = issue && "keys" in issue ? (issue.keys as string[]) : [];
  const param = [...(issue?.path ?? []), ...keys.slice(0, 1)].join(".") || null;
  return new AppError("VALIDATION_FAILED", `${param ?? "body"}: ${issue?.message ?? "invalid"}`, {
    details: { param },
  });
}

/** Registers an endpoint; answers it with its signing secret, shown this once (stored sealed). */
export async function createEndpoint(deps: EndpointDeps, userId: string, body: unknown) {
  const parsed = webhookEndpointInputSchema.safeParse(body);
  if (!parsed.success) throw firstIssue(parsed.error);
  const input = parsed.data;
  const events = input.event_types ?? [...WEBHOOK_EVENTS];
  const unknown = events.find((t) => !(WEBHOOK_EVENTS as readonly string[]).includes(t));
  if (unknown !== undefined)
    throw new AppError(
      "VALIDATION_FAILED",
      `event type ${unknown} is not sent by trainpod: ${WEBHOOK_EVENTS.join(", ")}`,
      {
        details: { param: "event_types", code: "unsupported" },
      },
    );
  const url = await checkWebhookUrl(input.url, deps.policy);
  if ((await deps.prisma.webhookEndpoint.count({ where: { userId } })) >= MAX_ENDPOINTS_PER_USER)
    throw new AppError("CONFLICT", `at most ${MAX_ENDPOINTS_PER_USER} webhook endpoints per user`);
  const id = randomUUID();
  const secret = newSigningSecret();
  const sealed = sealSecret(deps.keyring, endpointSecretOwner({ id, userId }), secret);
  const now = deps.clock.now();
  const row = await deps.prisma.webhookEndpoint.create({
    data: {
      id,
      userId,
      name: input.name ?? url.host,
      url: url.toString(),
      eventTypes: [...new Set(events)],
      keyId: sealed.keyId,
      iv: Buffer.from(sealed.iv),
      ciphertext: Buffer.from(sealed.ciphertext),
      authTag: Buffer.from(sealed.authTag),
      secretHint: secretHint(secret),
      createdAt: now,
      updatedAt: now,
    },
  });
  return { ...endpointObject(row), signing_secret: secret };
}

/** One of the user's endpoints; another's or an unknown id is NOT_FOUND. */
export async function getOwnEndpoint(prisma: PrismaClient, userId: string, id: string): Promise<EndpointRow> {
  const row = await prisma.webhookEndpoint.findFirst({ where: { id: trainpodId("endpoint", id), userId } });
  if (!row) throw new AppError("NOT_FOUND", `no such webhook endpoint: ${id.slice(0, 100)}`);
  return row;
}

/** The user's endpoints, newest first. */
export async function listEndpoints(prisma: PrismaClient, userId: string) {
  const rows = await prisma.webhookEndpoint.findMany({
    where: { userId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  return rows.map(endpointObject);
}

/** Deletes an endpoint (its pending deliveries go with it). */
export async function deleteEndpoint(prisma: PrismaClient, userId: string, id: string) {
  const row = await getOwnEndpoint(prisma, userId, id);
  await prisma.webhookEndpoint.delete({ where: { id: row.id } });
  return { id: openAiId("endpoint", row.id), object: "webhook_endpoint.deleted" as const, deleted: true };
}

/** An endpoint's signing secret, opened (the worker's delivery only). */
export function endpointSecret(keyring: SecretsKeyring, e: EndpointRow): string {
  return openSecret(keyring, endpointSecretOwner(e), {
    keyId: e.keyId,
    iv: e.iv,
    ciphertext: e.ciphertext,
    authTag: e.authTag,
  });
}
