import { z } from "zod";
import {
  openAiError,
  WEBHOOK_EVENTS,
  type ErrorCode,
  type checkpointObject,
  type endpointObject,
  type eventObject,
  type fileObject,
  type jobObject,
  type OpenAiErrorBody,
} from "@trainpod/core";
import type { Body } from "./operations";
import { shaped } from "./shaped";

/**
 * The OpenAI-compatible API's objects (issue 33) as zod schemas, for the OpenAPI document. Core builds them
 * (fileObject, jobObject, eventObject, checkpointObject, endpointObject); `shaped` ties each schema to its builder's
 * return type, so a field added, dropped or retyped there fails the typecheck here.
 */
const id = (description: string) => z.string().describe(description);
const unix = z.number().int().describe("Unix seconds");
const auto = z.literal("auto");

/** OpenAI's error body; `code` is trainpod's error code in lower case (`invalid_api_key` for a missing or bad key). */
export const openAiErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.enum(["invalid_request_error", "permission_error", "rate_limit_error", "server_error"]),
    param: z.string().nullable().describe("the request field at fault, as OpenAI names it"),
    code: z.string().nullable(),
  }),
}) satisfies z.ZodType<OpenAiErrorBody>;

export const fileSchema = shaped<ReturnType<typeof fileObject>>()(
  z.object({
    id: id("file-<dataset id>"),
    object: z.literal("file"),
    bytes: z.number().int(),
    created_at: unix,
    filename: z.string(),
    purpose: z.literal("fine-tune"),
    status: z.literal("processed").describe("always: a file that fails validation is refused at upload"),
    status_details: z.null(),
    expires_at: z.null(),
  }),
);

const hyperparameters = z.object({
  n_epochs: z.union([auto, z.number().int()]),
  batch_size: z.union([auto, z.number().int()]),
  learning_rate_multiplier: z.union([auto, z.number()]),
});
const dpoHyperparameters = hyperparameters.extend({ beta: z.union([auto, z.number()]) });

export const jobSchema = shaped<ReturnType<typeof jobObject>>()(
  z.object({
    id: id("ftjob-<deployment id>"),
    object: z.literal("fine_tuning.job"),
    created_at: unix,
    finished_at: unix.nullable(),
    model: z.string(),
    organization_id: id("user-<user id>"),
    status: z.enum(["validating_files", "queued", "running", "succeeded", "failed", "cancelled"]),
    training_file: z.string(),
    validation_file: z.null(),
    hyperparameters: z.union([dpoHyperparameters, hyperparameters]),
    method: z.discriminatedUnion("type", [
      z.object({ type: z.literal("supervised"), supervised: z.object({ hyperparameters }) }),
      z.object({ type: z.literal("dpo"), dpo: z.object({ hyperparameters: dpoHyperparameters }) }),
    ]),
    seed: z.number().int(),
    fine_tuned_model: z.string().nullable().describe("ft:<model>:trainpod[:<suffix>]:ftjob-<id> once succeeded"),
    result_files: z.array(z.string()).describe("always empty: the results are the job's artifacts"),
    trained_tokens: z.number().int().nullable(),
    error: z.object({ code: z.string(), message: z.string(), param: z.null() }).nullable(),
    estimated_finish: unix.nullable(),
    integrations: z.array(z.unknown()).describe("as given: [{type: wandb, wandb: {project, name}}]"),
    metadata: z.record(z.string(), z.string()).nullable(),
    user_provided_suffix: z.string().nullable(),
  }),
);

export const eventSchema = shaped<ReturnType<typeof eventObject>>()(
  z.object({
    id: id("ftevent-<n>"),
    object: z.literal("fine_tuning.job.event"),
    created_at: unix,
    level: z.enum(["info", "error"]),
    message: z.string(),
    type: z.enum(["metrics", "message"]),
    data: z.union([
      z.object({
        step: z.number().nullable(),
        total_steps: z.number().nullable(),
        train_loss: z.number().nullable(),
        valid_loss: z.number().nullable().optional(),
      }),
      z.object({ trainpod_type: z.string() }).catchall(z.unknown()),
    ]),
  }),
);

export const checkpointSchema = shaped<ReturnType<typeof checkpointObject>>()(
  z.object({
    id: id("ftckpt-<deployment id>-<step>"),
    object: z.literal("fine_tuning.job.checkpoint"),
    created_at: unix,
    fine_tuned_model_checkpoint: z.string(),
    fine_tuning_job_id: z.string(),
    step_number: z.number().int(),
    metrics: z.object({ step: z.number().int() }),
    trainpod_path: z.string().describe("the checkpoint's folder among the job's artifacts"),
  }),
);

export const endpointSchema = shaped<ReturnType<typeof endpointObject>>()(
  z.object({
    id: id("whe_<uuid>"),
    object: z.literal("webhook_endpoint"),
    created_at: unix,
    updated_at: unix,
    name: z.string(),
    url: z.string(),
    event_types: z.array(z.string()).describe(WEBHOOK_EVENTS.join(", ")),
    signing_secret_hint: z.string(),
  }),
);
export const createdEndpointSchema = endpointSchema.extend({
  signing_secret: z.string().describe("whsec_ + base64: answered this once, never again"),
});

/** OpenAI's list envelopes: `first_id`/`last_id` where OpenAI's listing has them. */
const list = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal("list"), data: z.array(item), has_more: z.boolean() });
const idList = <T extends z.ZodType>(item: T) =>
  list(item).extend({ first_id: z.string().nullable(), last_id: z.string().nullable() });
export const fileListSchema = idList(fileSchema);
export const jobListSchema = list(jobSchema);
export const eventListSchema = list(eventSchema);
export const checkpointListSchema = idList(checkpointSchema);
export const endpointListSchema = idList(endpointSchema);
export const deletedSchema = <T extends string>(object: T) =>
  z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });

/** OpenAI's page query: `after` (an id of the previous page), `limit` 1-100 (default 20). */
export const pageQuerySchema = z.object({
  after: z.string().optional().describe("the last id of the previous page"),
  limit: z.number().int().min(1).max(100).optional().describe("1-100, default 20"),
});
export const orderedPageQuerySchema = pageQuerySchema.extend({
  order: z.literal("desc").optional().describe("newest first, the only order"),
});

/** An error body as the routes answer it (core's openAiError; a route's details.code, e.g. `unsupported`, replaces the code). */
export const openAiErr = (
  description: string,
  status: number,
  code: ErrorCode | string,
  message: string,
  param: string | null = null,
  detailsCode?: string,
): Body => ({
  description,
  schema: openAiErrorSchema,
  example: openAiError(status, detailsCode ?? code, message, param).body,
});
export const jsonBody = (schema: z.ZodType, example: unknown, description: string): Body => ({
  schema,
  example,
  description,
});
/** Every route: the trainpod API key as Bearer. */
export const openAiDenied = {
  401: openAiErr(
    "no, an unknown or a revoked API key",
    401,
    "UNAUTHORIZED",
    "a valid API key is required (Authorization: Bearer tp_live_...)",
  ),
};
export const openAiNotFound = (what: string, id: string) => ({
  404: openAiErr(`no such ${what}, or another user's (the same answer)`, 404, "NOT_FOUND", `no such ${what}: ${id}`),
});
export const badPage = (param: string, message: string) => ({
  400: openAiErr("a bad `limit`, `after` or `order`", 400, "VALIDATION_FAILED", message, param),
});
