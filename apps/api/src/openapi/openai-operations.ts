import { z } from "zod";
import { createJobSchema } from "@trainpod/core";
import { OPENAI_PREFIX } from "../openai/router";
import type { Operation } from "./operations";
import * as ex from "./openai-examples";
import * as o from "./openai-schemas";
import { badPage, jsonBody, openAiDenied, openAiErr, openAiNotFound } from "./openai-schemas";
import { OPENAI_WEBHOOK_OPERATIONS } from "./openai-webhook-operations";

/**
 * The OpenAI-compatible fine-tuning API (issue 33, docs/openai.md), mounted at /openai/v1: OpenAI's SDKs take that
 * prefix as their baseURL and the trainpod API key as their Bearer key. Every error is OpenAI's shape; the examples
 * are built by core's openAiError, as the routes answer them.
 */
const P = OPENAI_PREFIX;

const common = { tag: "openai", security: "apiKey" as const };
const jobId = ex.jobExample.id;

const uploadSchema = z.object({
  file: z.string().meta({
    format: "binary",
    contentMediaType: "application/jsonl",
    description: "JSONL: OpenAI's chat or DPO rows, or trainpod's own formats; validated line by line as it streams in",
  }),
  purpose: z.literal("fine-tune"),
});

export const OPENAI_OPERATIONS: Operation[] = [
  {
    ...common,
    method: "post",
    path: `${P}/files`,
    summary: "Upload a training file (a dataset of yours); OpenAI's DPO rows become preference_chat rows",
    body: {
      description: "multipart/form-data: the `file` part and `purpose=fine-tune`",
      contentType: "multipart/form-data",
      schema: uploadSchema,
      example: {
        file: '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n',
        purpose: "fine-tune",
      },
    },
    responses: {
      200: jsonBody(o.fileSchema, ex.fileExample, "the file, validated (always `processed`)"),
      400: openAiErr(
        "not multipart, no file part, a purpose other than fine-tune (nothing kept), or invalid lines (the first ones by number)",
        400,
        "VALIDATION_FAILED",
        "purpose batch is not supported: only fine-tune",
        "purpose",
      ),
      ...openAiDenied,
      413: openAiErr(
        "over DATASET_MAX_BYTES (nothing kept)",
        413,
        "PAYLOAD_TOO_LARGE",
        "larger than the limit of 1073741824 bytes",
      ),
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/files`,
    summary: "Your files (datasets), newest first",
    query: o.orderedPageQuerySchema.extend({
      purpose: z.string().optional().describe("fine-tune; any other purpose lists nothing"),
    }),
    responses: {
      200: jsonBody(
        o.fileListSchema,
        {
          object: "list",
          data: [ex.fileExample],
          has_more: false,
          first_id: ex.fileExample.id,
          last_id: ex.fileExample.id,
        },
        "a page",
      ),
      ...badPage("order", "order: trainpod lists newest first (desc) only"),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/files/{id}`,
    summary: "One of your files (`file-<dataset id>` or the bare dataset id)",
    responses: {
      200: jsonBody(o.fileSchema, ex.fileExample, "the file"),
      ...openAiNotFound("file", ex.fileExample.id),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "delete",
    path: `${P}/files/{id}`,
    summary: "Delete one of your files (the dataset)",
    responses: {
      200: jsonBody(o.deletedSchema("file"), { id: ex.fileExample.id, object: "file", deleted: true }, "deleted"),
      ...openAiNotFound("file", ex.fileExample.id),
      409: openAiErr(
        "a live job trains on it",
        409,
        "DATASET_IN_USE",
        "live deployments use this dataset; cancel them or wait for their outcome first",
      ),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "post",
    path: `${P}/fine_tuning/jobs`,
    summary:
      "Create a fine-tuning job: a deployment through every rule of POST /v1/deployments (pre-flight, budgets, slots, estimate)",
    headers: { "Idempotency-Key": "1-200 characters of A-Z a-z 0-9 . _ : -; the same key returns the same job" },
    body: jsonBody(
      createJobSchema,
      {
        model: "Qwen/Qwen2.5-0.5B-Instruct",
        training_file: ex.fileExample.id,
        method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2 } } },
        metadata: { trainpod_gpu_types: "NVIDIA L40S,NVIDIA A40", trainpod_max_cost_usd: "5" },
      },
      "OpenAI's request; what OpenAI has no field for comes from the `trainpod_*` metadata keys (docs/openai.md)",
    ),
    responses: {
      200: jsonBody(o.jobSchema, { ...ex.jobExample, status: "queued", estimated_finish: null }, "the job (queued)"),
      400: openAiErr(
        "a field or value trainpod cannot honour (`code: unsupported`), an invalid hyperparameter, a failed pre-flight or a budget: `param` names the OpenAI field",
        400,
        "VALIDATION_FAILED",
        'hyperparameters.warmup: Unrecognized key: "warmup"',
        "hyperparameters.warmup",
      ),
      404: openAiErr("training_file is not a file id", 404, "NOT_FOUND", "no such file: chat.jsonl", "training_file"),
      409: openAiErr(
        "another request is deciding your spend: try again",
        409,
        "CONFLICT",
        "this user's spend is being decided by another request; try again",
      ),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/fine_tuning/jobs`,
    summary: "Your jobs (every deployment of yours), newest first; no metadata filter",
    query: o.pageQuerySchema,
    responses: {
      200: jsonBody(o.jobListSchema, { object: "list", data: [ex.jobExample], has_more: false }, "a page"),
      ...badPage("metadata", "filtering jobs by metadata is not supported"),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/fine_tuning/jobs/{id}`,
    summary: "One of your jobs (`ftjob-<deployment id>` or the bare id)",
    responses: {
      200: jsonBody(o.jobSchema, ex.jobExample, "the job"),
      ...openAiNotFound("fine-tuning job", jobId),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "post",
    path: `${P}/fine_tuning/jobs/{id}/cancel`,
    summary: "Cancel one of your jobs; its pod is terminated",
    responses: {
      200: jsonBody(
        o.jobSchema,
        { ...ex.jobExample, status: "cancelled", finished_at: ex.jobExample.created_at + 600, estimated_finish: null },
        "the job",
      ),
      ...openAiNotFound("fine-tuning job", jobId),
      409: openAiErr("the job has ended already", 409, "CONFLICT", "deployment is SUCCEEDED and cannot be cancelled"),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/fine_tuning/jobs/{id}/events`,
    summary: "A job's events, newest first: phases, progress as `metrics` events, the outcome",
    query: o.pageQuerySchema,
    responses: {
      200: jsonBody(o.eventListSchema, { object: "list", data: ex.eventExamples, has_more: false }, "a page"),
      ...badPage("after", "after is not an event id"),
      ...openAiNotFound("fine-tuning job", jobId),
      ...openAiDenied,
    },
  },
  {
    ...common,
    method: "get",
    path: `${P}/fine_tuning/jobs/{id}/checkpoints`,
    summary: "A job's complete checkpoints, newest first (their files: the job's artifacts under trainpod_path)",
    query: o.pageQuerySchema,
    responses: {
      200: jsonBody(
        o.checkpointListSchema,
        {
          object: "list",
          data: [ex.checkpointExample],
          has_more: false,
          first_id: ex.checkpointExample.id,
          last_id: ex.checkpointExample.id,
        },
        "a page",
      ),
      ...badPage("after", "after is not a checkpoint of this job"),
      ...openAiNotFound("fine-tuning job", jobId),
      ...openAiDenied,
    },
  },
  ...OPENAI_WEBHOOK_OPERATIONS,
];
