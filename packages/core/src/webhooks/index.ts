// Webhooks (issue 33): endpoints with sealed whsec_ secrets, Standard Webhooks signatures, the SSRF rule on their
// URLs, and the deliveries the worker makes after a fine-tuning job's outcome.
export {
  createEndpoint,
  deleteEndpoint,
  endpointObject,
  endpointSecret,
  getOwnEndpoint,
  listEndpoints,
  MAX_ENDPOINTS_PER_USER,
  WEBHOOK_EVENTS,
  webhookEndpointInputSchema,
  type EndpointDeps,
} from "./endpoints";
export {
  deliverWebhook,
  scanWebhookDeliveries,
  type DeliveryDeps,
  type DeliveryOutcome,
  type ScanResult,
} from "./deliveries";
export { postWebhook, type PostResult } from "./post";
export { reencryptEndpointSecrets } from "./endpoint-keys";
export { newSigningSecret, secretHint, webhookEventId, webhookHeaders, webhookSignature } from "./signing";
export { checkedLookup, checkWebhookUrl, isBlockedAddress, parseWebhookUrl, type WebhookUrlPolicy } from "./url-check";
export { webhookPolicyFromConfig } from "./policy";
export { enqueueWebhookDeliveries } from "./enqueue";
