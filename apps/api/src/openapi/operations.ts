import { z } from "zod";
import {
  datasetListQuerySchema,
  deploymentRequestSchema,
  estimateRequestSchema,
  listQuerySchema,
  runEventSchema,
} from "@trainpod/core";
import * as ex from "./examples";
import * as s from "./response-schemas";

export interface Body {
  schema?: z.ZodType;
  contentType?: string;
  example?: unknown;
  description: string;
}

/** One route of the API as the OpenAPI document shows it. Paths use OpenAPI's {param} syntax. */
export interface Operation {
  method: "get" | "post" | "put" | "delete";
  path: string;
  summary: string;
  tag: string;
  /** admin: an admin's API key as Bearer, or as the HTTP Basic password */
  security: "apiKey" | "runToken" | "admin" | "none";
  query?: z.ZodObject;
  headers?: Record<string, string>;
  body?: Body;
  responses: Record<number, Body>;
}

const err = (description: string, example: unknown = ex.errorExample): Body => ({
  description,
  schema: s.errorSchema,
  example,
});
const notFound = err("not yours or no such thing");
const invalid = err("the request does not match the schema", {
  error: {
    code: "VALIDATION_FAILED",
    message: "request is invalid",
    details: [{ path: "gpuTypeIds", message: "Too small" }],
  },
});
const preflightFailed: Body = {
  description: "pre-flight checks failed; every problem listed",
  schema: s.preflightErrorSchema,
  example: ex.preflightErrorExample,
};
const json = (schema: z.ZodType, example: unknown, description: string): Body => ({ schema, example, description });

export const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/healthz",
    summary: "The process is up",
    tag: "health",
    security: "none",
    responses: { 200: json(s.healthSchema, { status: "ok" }, "up") },
  },
  {
    method: "get",
    path: "/readyz",
    summary: "Postgres and Redis answer",
    tag: "health",
    security: "none",
    responses: {
      200: json(s.readySchema, { status: "ready", checks: { postgres: { ok: true }, redis: { ok: true } } }, "ready"),
      503: { description: "not ready", schema: s.readySchema },
    },
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    tag: "docs",
    security: "none",
    responses: { 200: { description: "OpenAPI 3.1 document" } },
  },
  {
    method: "get",
    path: "/docs",
    summary: "API reference page",
    tag: "docs",
    security: "none",
    responses: { 200: { description: "HTML", contentType: "text/html" } },
  },
  {
    method: "get",
    path: "/docs/init.js",
    summary: "The docs page's script (no inline script, no CDN)",
    tag: "docs",
    security: "none",
    responses: { 200: { description: "JavaScript", contentType: "text/javascript" } },
  },
  {
    method: "post",
    path: "/v1/datasets",
    summary: "Upload a JSONL dataset (streamed, validated line by line)",
    tag: "datasets",
    security: "apiKey",
    query: z.object({ name: z.string().min(1).max(200) }),
    body: {
      description: "JSONL: chat `messages` or `prompt`/`completion` per line",
      contentType: "application/x-ndjson",
      schema: z.string(),
      example: '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n',
    },
    responses: {
      201: json(s.datasetSchema, ex.datasetExample, "stored"),
      400: invalid,
      413: err("larger than DATASET_MAX_BYTES"),
      415: err("wrong Content-Type"),
    },
  },
  {
    method: "get",
    path: "/v1/datasets",
    summary: "The caller's datasets, newest first",
    tag: "datasets",
    security: "apiKey",
    query: datasetListQuerySchema,
    responses: { 200: json(s.datasetPageSchema, { items: [ex.datasetExample], nextCursor: null }, "a page") },
  },
  {
    method: "get",
    path: "/v1/datasets/{id}",
    summary: "One dataset",
    tag: "datasets",
    security: "apiKey",
    responses: { 200: json(s.datasetSchema, ex.datasetExample, "the dataset"), 404: notFound },
  },
  {
    method: "get",
    path: "/v1/datasets/download",
    summary: "A pod downloads its dataset with a single-use token",
    tag: "runs",
    security: "none",
    query: z.object({ token: z.string() }),
    responses: {
      200: { description: "the JSONL bytes", contentType: "application/x-ndjson" },
      401: err("token invalid, expired, revoked or used"),
    },
  },
  {
    method: "post",
    path: "/v1/deployments",
    summary: "Submit a fine-tuning run (schema, then pre-flight checks)",
    tag: "deployments",
    security: "apiKey",
    headers: { "Idempotency-Key": "1-200 characters of A-Z a-z 0-9 . _ : -; the same key returns the same deployment" },
    body: json(deploymentRequestSchema, ex.deploymentRequestExample, "the run"),
    responses: {
      202: json(s.deploymentSchema, { ...ex.deploymentExample, status: "QUEUED" }, "queued"),
      200: json(s.deploymentSchema, ex.deploymentExample, "an earlier submission with the same Idempotency-Key"),
      400: invalid,
      422: preflightFailed,
    },
  },
  {
    method: "post",
    path: "/v1/deployments/estimate",
    summary: "The dataset's tokens, expected time and cost from them, the worst case and the enforced cap",
    tag: "deployments",
    security: "apiKey",
    body: json(estimateRequestSchema, ex.estimateRequestExample, "GPU types, count, limits, expected runtime"),
    responses: {
      200: json(s.estimateSchema, ex.estimateExample, "the estimate"),
      400: invalid,
      422: err("no GPU type with a known price; a row the model's chat template cannot render", {
        error: { code: "UNPROCESSABLE", message: "none of the GPU types has a known price" },
      }),
    },
  },
  {
    method: "post",
    path: "/v1/deployments/validate",
    summary: "Run the pre-flight checks without submitting",
    tag: "deployments",
    security: "apiKey",
    body: json(deploymentRequestSchema, ex.deploymentRequestExample, "the run"),
    responses: {
      200: json(s.validateOkSchema, { ok: true, problems: [] }, "every check passed"),
      400: invalid,
      422: preflightFailed,
    },
  },
  {
    method: "get",
    path: "/v1/deployments",
    summary: "The caller's deployments, newest first",
    tag: "deployments",
    security: "apiKey",
    query: listQuerySchema,
    responses: { 200: json(s.deploymentPageSchema, { items: [ex.deploymentExample], nextCursor: null }, "a page") },
  },
  {
    method: "get",
    path: "/v1/deployments/{id}",
    summary: "One deployment and its timeline",
    tag: "deployments",
    security: "apiKey",
    responses: {
      200: json(s.deploymentWithEventsSchema, ex.deploymentWithEventsExample, "the deployment"),
      404: notFound,
    },
  },
  {
    method: "get",
    path: "/v1/deployments/{id}/events/stream",
    summary: "Server-sent events of the timeline, resumable with Last-Event-ID",
    tag: "deployments",
    security: "apiKey",
    headers: { "Last-Event-ID": "resume after this event id (or ?lastEventId=)" },
    query: z.object({ lastEventId: z.string().regex(/^\d+$/).optional() }),
    responses: {
      200: {
        description:
          "text/event-stream: `id: <event id>` + `data: <event JSON>` per event, `: heartbeat` comments, a final `event: end` whose data is the deployment",
        contentType: "text/event-stream",
        schema: s.eventSchema,
        example: ex.eventExample,
      },
      404: notFound,
      429: err("too many open streams: SSE_MAX_STREAMS_PER_USER per user, SSE_MAX_STREAMS per API process", {
        error: {
          code: "RATE_LIMITED",
          message: "at most 10 open event streams per user",
          details: { limit: 10, scope: "user" },
        },
      }),
    },
  },
  {
    method: "get",
    path: "/v1/deployments/{id}/logs",
    summary: "The pod's own log lines from RunPod (container and system), as server-sent events",
    tag: "deployments",
    security: "apiKey",
    headers: { "Last-Event-ID": "resume after this RunPod log event id" },
    query: z.object({
      follow: z.enum(["0", "1", "true", "false"]).optional(),
      source: z.enum(["container", "system"]).optional(),
      tail: z.coerce.number().int().min(0).max(5000).optional(),
    }),
    responses: {
      200: {
        description:
          "text/event-stream: `id: <RunPod's event id>` + `data: {ts, source, line}` per line; without follow=1 it ends (`event: end`) once the backfill is over",
        contentType: "text/event-stream",
        schema: z.object({ ts: z.string(), source: z.enum(["container", "system"]), line: z.string() }),
        example: { ts: "2026-12-01T10:00:03Z", source: "container", line: "step 3/20 loss 1.21" },
      },
      404: notFound,
      409: err("no pod yet, or the pod is terminated", {
        error: {
          code: "CONFLICT",
          message:
            "this deployment's pod is terminated: RunPod keeps no logs of it (its last lines are in the timeline)",
        },
      }),
      429: err("too many open streams", {
        error: {
          code: "RATE_LIMITED",
          message: "at most 10 open event streams per user",
          details: { limit: 10, scope: "user" },
        },
      }),
    },
  },
  {
    method: "post",
    path: "/v1/deployments/{id}/cancel",
    summary: "Cancel; the pod is terminated",
    tag: "deployments",
    security: "apiKey",
    responses: {
      202: json(s.deploymentSchema, { ...ex.deploymentExample, status: "CANCELLED" }, "cancelled"),
      404: notFound,
      409: err("already finished", { error: { code: "CONFLICT", message: "deployment already finished" } }),
    },
  },
  {
    method: "post",
    path: "/v1/runs/{id}/events",
    summary: "A pod reports its heartbeat, phases, progress, logs and its outcome",
    tag: "runs",
    security: "runToken",
    body: json(runEventSchema, ex.runEventExample, "one event"),
    responses: {
      202: json(s.runEventAnswerSchema, { ok: true }, "recorded (`applied: false`: a repeat, nothing changed)"),
      400: invalid,
      401: err("run token invalid, expired or revoked"),
    },
  },
];
