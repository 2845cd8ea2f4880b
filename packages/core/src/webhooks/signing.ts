import { createHash, createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks (standardwebhooks.com), as OpenAI signs its webhooks and its SDKs verify them
 * (`client.webhooks.unwrap`): the secret is `whsec_` + base64 of 32 random bytes, the HMAC key is those bytes, and
 * `webhook-signature` is `v1,` + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")).
 */
export const SECRET_PREFIX = "whsec_";

/** A new signing secret. */
export function newSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

/** The last characters of a secret, for listings (never enough to sign anything). */
export function secretHint(secret: string): string {
  return `${SECRET_PREFIX}...${secret.slice(-4)}`;
}

function keyOf(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), "base64")
    : Buffer.from(secret, "utf8");
}

/** The `webhook-signature` value of a message. */
export function webhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac("sha256", keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** The headers of one delivery attempt (a fresh timestamp and signature each time, the same id). */
export function webhookHeaders(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "trainpod-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": webhookSignature(secret, id, timestamp, body),
  };
}

/** The id of a job's outcome event: the same for every endpoint and every attempt (receivers dedupe by it). */
export function webhookEventId(deploymentId: string, type: string): string {
  return `evt_${createHash("sha256").update(`${deploymentId}:${type}`).digest("hex").slice(0, 32)}`;
}
