import { z } from "zod";
import { AppError } from "../errors";
import { trainpodId } from "./ids";

/**
 * POST /openai/v1/fine_tuning/jobs (issue 33): OpenAI's request checked, then mapped onto trainpod's deployment request
 * (which submitDeployment checks as any other). Nothing is dropped: a field or value trainpod cannot honour is a
 * refusal naming its `param`. docs/openai.md has the mapping field by field.
 */

/** trainpod's learning rate when none is given (the agent's default): learning_rate_multiplier scales it. */
export const BASE_LEARNING_RATE = 2e-4;

const auto = z.literal("auto");
const hyperparameters = z
  .object({
    n_epochs: z.union([auto, z.number().int()]).optional(),
    batch_size: z.union([auto, z.number().int()]).optional(),
    learning_rate_multiplier: z.union([auto, z.number().positive()]).optional(),
  })
  .strict();
const dpoHyperparameters = hyperparameters.extend({ beta: z.union([auto, z.number().positive()]).optional() }).strict();

const method = z.discriminatedUnion("type", [
  z
    .object({ type: z.literal("supervised"), supervised: z.object({ hyperparameters }).partial().strict().optional() })
    .strict(),
  z
    .object({
      type: z.literal("dpo"),
      dpo: z.object({ hyperparameters: dpoHyperparameters }).partial().strict().optional(),
    })
    .strict(),
  z.object({ type: z.literal("reinforcement") }).passthrough(),
]);

const wandb = z
  .object({
    project: z.string().min(1),
    name: z.string().min(1).nullish(),
    entity: z.string().nullish(),
    tags: z.array(z.string()).nullish(),
  })
  .strict();

export const createJobSchema = z
  .object({
    model: z.string().min(1),
    training_file: z.string().min(1),
    validation_file: z.string().nullish(),
    hyperparameters: hyperparameters.optional(),
    method: method.optional(),
    suffix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 of A-Z a-z 0-9 _ -")
      .nullish(),
    seed: z.number().int().nullish(),
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 16, "at most 16 keys")
      .nullish(),
    integrations: z
      .array(z.object({ type: z.literal("wandb"), wandb }).strict())
      .max(1)
      .nullish(),
  })
  .strict();

export type CreateJobRequest = z.infer<typeof createJobSchema>;

/** The metadata keys trainpod reads (the rest are kept and shown as given). */
export const TRAINPOD_METADATA_KEYS = [
  "trainpod_gpu_types",
  "trainpod_gpu_count",
  "trainpod_cloud_type",
  "trainpod_image",
  "trainpod_max_cost_usd",
  "trainpod_max_runtime_minutes",
  "trainpod_eval_fraction",
  "trainpod_secrets",
  "trainpod_hyperparameters",
] as const;

function refuse(param: string, message: string, code = "invalid_value"): AppError {
  return new AppError("VALIDATION_FAILED", message, { details: { param, code } });
}

/** What trainpod stores beside the deployment (the OpenAiJob row). */
export interface JobExtras {
  suffix: string | null;
  metadata: Record<string, string> | null;
  integrations: unknown[] | null;
}

export interface MappedJob {
  /** the body of a deployment submission (submitDeployment checks it) */
  body: Record<string, unknown>;
  extras: JobExtras;
}

const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

function numberOf(key: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw refuse(`metadata.${key}`, `metadata.${key} must be ${integer ? "an integer" : "a number"}`);
  return n;
}

/** The OpenAI hyperparameters (from `method` or the deprecated top-level field) as trainpod's. */
function trainpodHyperparameters(req: CreateJobRequest): Record<string, unknown> {
  const m = req.method;
  if (m?.type === "reinforcement")
    throw refuse(
      "method.type",
      "method reinforcement is not supported: trainpod trains supervised or dpo",
      "unsupported",
    );
  const fromMethod =
    m?.type === "dpo" ? m.dpo?.hyperparameters : m?.type === "supervised" ? m.supervised?.hyperparameters : undefined;
  if (fromMethod !== undefined && req.hyperparameters !== undefined)
    throw refuse("hyperparameters", "give the hyperparameters in method only (the top-level field is deprecated)");
  const hp = fromMethod ?? req.hyperparameters ?? {};
  const out: Record<string, unknown> = {};
  if (typeof hp.n_epochs === "number") out.epochs = hp.n_epochs;
  if (typeof hp.batch_size === "number")
    Object.assign(out, { batch_size: hp.batch_size, gradient_accumulation_steps: 1 });
  if (typeof hp.learning_rate_multiplier === "number")
    out.learning_rate = Number((BASE_LEARNING_RATE * hp.learning_rate_multiplier).toPrecision(12));
  if (m?.type === "dpo") {
    out.method = "dpo";
    const beta = (hp as { beta?: unknown }).beta;
    if (typeof beta === "number") out.dpo_beta = beta;
  }
  if (typeof req.seed === "number") out.seed = req.seed;
  return out;
}

function extraHyperparameters(text: string, fixed: Record<string, unknown>): Record<string, unknown> {
  const param = "metadata.trainpod_hyperparameters";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw refuse(param, `${param} must be a JSON object of trainpod hyperparameters`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw refuse(param, `${param} must be a JSON object of trainpod hyperparameters`);
  const clash = Object.keys(parsed).find((k) => k in fixed || k === "method");
  if (clash !== undefined)
    throw refuse(param, `${param} sets ${clash}, which the request's own fields set (or must set): give it there`);
  return parsed as Record<string, unknown>;
}

/**
 * Maps a checked OpenAI request onto a deployment submission, with OPENAI_DEFAULT_GPU_TYPES when the metadata names
 * no GPU type. Throws VALIDATION_FAILED (details.param) for anything trainpod cannot honour.
 */
export function mapCreateJob(input: unknown, defaults: { gpuTypeIds: string[] }): MappedJob {
  const parsed = createJobSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue && "keys" in issue ? (issue.keys as string[]) : [];
    const param = [...(issue?.path ?? []), ...keys.slice(0, 1)].join(".") || null;
    throw new AppError("VALIDATION_FAILED", `${param ?? "body"}: ${issue?.message ?? "invalid request"}`, {
      details: { param },
    });
  }
  const req = parsed.data;
  if (req.validation_file != null)
    throw refuse(
      "validation_file",
      "validation_file is not supported: trainpod holds out a share of the training file as its eval set instead " +
        '(metadata.trainpod_eval_fraction, e.g. "0.1")',
      "unsupported",
    );
  const w = req.integrations?.[0]?.wandb;
  if (w && (w.entity != null || (w.tags != null && w.tags.length > 0)))
    throw refuse(
      `integrations.0.wandb.${w.entity != null ? "entity" : "tags"}`,
      "W&B entity and tags are not supported: the run goes to the project of the user's WANDB_API_KEY",
      "unsupported",
    );
  const meta = req.metadata ?? {};
  const unknown = Object.keys(meta).find(
    (k) => k.startsWith("trainpod_") && !(TRAINPOD_METADATA_KEYS as readonly string[]).includes(k),
  );
  if (unknown !== undefined)
    throw refuse(
      `metadata.${unknown}`,
      `unknown trainpod metadata key ${unknown}: one of ${TRAINPOD_METADATA_KEYS.join(", ")}`,
    );
  const hp = trainpodHyperparameters(req);
  const extra =
    meta.trainpod_hyperparameters !== undefined ? extraHyperparameters(meta.trainpod_hyperparameters, hp) : {};
  if (meta.trainpod_eval_fraction !== undefined)
    hp.eval_fraction = numberOf("trainpod_eval_fraction", meta.trainpod_eval_fraction, false);
  const secrets = meta.trainpod_secrets !== undefined ? list(meta.trainpod_secrets) : [];
  if (w && !secrets.includes("WANDB_API_KEY")) secrets.push("WANDB_API_KEY");
  const body: Record<string, unknown> = {
    datasetId: trainpodId("file", req.training_file, "training_file"),
    baseModel: req.model,
    hyperparameters: { ...extra, ...hp },
    gpuTypeIds: meta.trainpod_gpu_types !== undefined ? list(meta.trainpod_gpu_types) : defaults.gpuTypeIds,
    secrets,
  };
  if (meta.trainpod_gpu_count !== undefined)
    body.gpuCount = numberOf("trainpod_gpu_count", meta.trainpod_gpu_count, true);
  if (meta.trainpod_cloud_type !== undefined) body.cloudType = meta.trainpod_cloud_type;
  if (meta.trainpod_image !== undefined) body.image = meta.trainpod_image;
  if (meta.trainpod_max_cost_usd !== undefined) body.maxCostUsd = meta.trainpod_max_cost_usd;
  if (meta.trainpod_max_runtime_minutes !== undefined)
    body.maxRuntimeMinutes = numberOf("trainpod_max_runtime_minutes", meta.trainpod_max_runtime_minutes, true);
  if (w) body.wandb = { project: w.project, ...(w.name ? { name: w.name } : {}) };
  return {
    body,
    extras: {
      suffix: req.suffix ?? null,
      metadata: req.metadata ?? null,
      integrations: req.integrations ?? null,
    },
  };
}
