import { webhookEndpointInputSchema } from "@trainpod/core";
import { OPENAI_PREFIX } from "../openai/router";
import type { Operation } from "./operations";
import * as ex from "./openai-examples";
import * as o from "./openai-schemas";
import { badPage, jsonBody, openAiDenied, openAiErr, openAiNotFound } from "./openai-schemas";

const P = OPENAI_PREFIX;
const common = { tag: "openai", security: "apiKey" as const };

/** Webhook endpoints as OpenAI's API has them (docs/openai.md#webhooks): no update or rotation, delete and create again. */
export const OPENAI_WEBHOOK_OPERATIONS: Operation[] = [
  {
    ...common,
    method: "post",
    path: `${P}/webhook_endpoints`,
    summary: "Register a webhook endpoint for your jobs' outcomes; its signing secret is answered this once",
    body: jsonBody(
      webhookEndpointInputSchema,
      { url: ex.endpointExample.url, name: ex.endpointExample.name, event_types: ex.endpointExample.event_types },
      "the URL (https, no credentials, no private address unless WEBHOOK_ALLOW_PRIVATE_URLS), a name, the event types (default: all three)",
    ),
    responses: {
      200: jsonBody(
        o.createdEndpointSchema,
        { ...ex.endpointExample, signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
        "the endpoint, with its signing secret",
      ),
      400: openAiErr(
        "a URL the rule refuses, or an event type trainpod does not send",
        400,
        "VALIDATION_FAILED",
        "url's host hooks.example.com resolves to 10.0.0.7, a private, loopback or reserved address",
        "url",
        "invalid_url",
      ),
      409: openAiErr("you have 20 endpoints already", 409, "CONFLICT", "at most 20 webhook endpoints per user"),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/webhook_endpoints`,
    summary: "Your webhook endpoints, newest first (never their secrets)",
    query: o.orderedPageQuerySchema,
    responses: {
      200: jsonBody(
        o.endpointListSchema,
        {
          object: "list",
          data: [ex.endpointExample],
          has_more: false,
          first_id: ex.endpointExample.id,
          last_id: ex.endpointExample.id,
        },
        "a page",
      ),
      ...badPage("after", "after is not an endpoint of this listing"),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/webhook_endpoints/{id}`,
    summary: "One of your webhook endpoints (`whe_<uuid>`)",
    responses: {
      200: jsonBody(o.endpointSchema, ex.endpointExample, "the endpoint"),
      ...openAiNotFound("webhook endpoint", ex.endpointExample.id),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "delete",
    path: `${P}/webhook_endpoints/{id}`,
    summary: "Delete one of your webhook endpoints (its pending deliveries go with it)",
    responses: {
      200: jsonBody(
        o.deletedSchema("webhook_endpoint.deleted"),
        { id: ex.endpointExample.id, object: "webhook_endpoint.deleted", deleted: true },
        "deleted",
      ),
      ...openAiNotFound("webhook endpoint", ex.endpointExample.id),
      ...openAiDenied,
    },
  },
];
