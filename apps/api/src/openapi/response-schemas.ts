import { z } from "zod";
import { DATASET_FORMATS } from "@trainpod/core";

/** zod schemas of the API's answers: the OpenAPI document is generated from them and examples are checked against them. */
const usd = z
  .string()
  .regex(/^-?\d+\.\d{6}$/)
  .describe("USD as a decimal string with 6 decimals (exact micro-dollars)");
const when = z.string().describe("ISO 8601 timestamp");
const status = z.enum(["QUEUED", "PROVISIONING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]);

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export const preflightErrorSchema = z.object({
  error: z.object({
    code: z.literal("PREFLIGHT_FAILED"),
    message: z.string(),
    details: z.object({
      problems: z.array(z.object({ code: z.string(), field: z.string().optional(), message: z.string() })),
    }),
  }),
});

export const eventSchema = z.object({
  id: z.string().regex(/^\d+$/).describe("monotonic event id; the SSE id of the stream"),
  type: z
    .string()
    .describe(
      "submitted, pod_created, running, phase_started, phase_ended, progress, log, succeeded, failed, cancelled, pod_terminated; also late_pod (a pod its create made after it closed, terminated), orphan_terminated, duplicate_pod_terminated, cache_volume_mounted, cache_volume_skipped, ...",
    ),
  message: z.string().nullable(),
  data: z.unknown(),
  at: when,
});

export const deploymentSchema = z.object({
  id: z.string().uuid(),
  status,
  failureReason: z.string().nullable(),
  failureMessage: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  datasetId: z.string().uuid(),
  baseModel: z.string(),
  hyperparameters: z.record(z.string(), z.unknown()),
  gpuTypeIds: z.array(z.string()),
  gpuCount: z.number().int(),
  cloudType: z.enum(["SECURE", "COMMUNITY"]),
  image: z.string(),
  limits: z.object({ maxRuntimeMinutes: z.number().int(), maxCostUsd: usd, setupTimeoutMinutes: z.number().int() }),
  dataCenterIds: z.array(z.string()),
  secrets: z
    .array(z.string())
    .describe("the names of your secrets the pod gets as env (request `secrets`); never values"),
  pod: z.object({
    id: z.string().nullable(),
    gpuTypeId: z.string().nullable(),
    dataCenterId: z.string().nullable(),
    costPerHrUsd: usd.nullable(),
  }),
  hub: z
    .object({
      repo: z.string(),
      merged: z.boolean(),
      url: z.string().nullable().describe("the commit the push made, once the pod pushed"),
      error: z.string().nullable().describe("why the push failed (the artifacts stay stored in trainpod)"),
    })
    .nullable()
    .describe("the Hugging Face repo the output is pushed to at the end (request `hub`); null when none"),
  wandb: z
    .object({
      project: z.string(),
      name: z.string().nullable(),
      url: z.string().nullable().describe("the W&B run, once the trainer reported it"),
    })
    .nullable()
    .describe("the W&B project the trainer reports to (request `wandb`); null when none"),
  progress: z.object({
    step: z.number().int().nullable(),
    totalSteps: z.number().int().nullable(),
    loss: z.string().nullable(),
  }),
  phase: z
    .object({
      name: z
        .string()
        .describe("setup, install, dataset_download, model_download, load, tokenize, train, save, upload"),
      state: z.enum(["started", "progress", "ended"]),
      done: z.number().int().nullable(),
      total: z.number().int().nullable(),
      unit: z.enum(["bytes", "rows", "steps", "files"]).nullable(),
      startedAt: when,
    })
    .nullable()
    .describe("the pod's current phase and its progress (done of total, in unit); null before its first phase report"),
  timeToFirstStep: z
    .object({
      seconds: z.number().nullable().describe("from the pod's create to the first training step"),
      bootSeconds: z
        .number()
        .nullable()
        .describe("its part before the pod's first report: scheduling, image pull, container start, bootstrap"),
    })
    .describe("time to first step (issue 28); the rest is the phases: install, downloads, load, tokenize"),
  costUsd: usd.nullable(),
  runpodBill: z
    .object({
      totalUsd: usd,
      gpuUsd: usd.nullable(),
      cpuUsd: usd.nullable(),
      diskUsd: usd.nullable(),
      differenceUsd: z.string().nullable(),
      readAt: when,
    })
    .nullable()
    .describe("RunPod's own bill (GET /v2/billing/pods), read by the billing job after termination; null until then"),
  runtimeSeconds: z.number().int().nullable(),
  estimate: z
    .object({
      estimated: z.object({
        tokens: z.number().int().nullable(),
        runtimeSeconds: z.number().int(),
        costUsd: usd.nullable(),
      }),
      actual: z.object({
        tokens: z.number().int().nullable(),
        tokensPerSecond: z.number().nullable(),
        runtimeSeconds: z.number().int().nullable(),
        costUsd: usd.nullable(),
      }),
      error: z.object({ tokens: z.number().nullable(), runtime: z.number().nullable(), cost: z.number().nullable() }),
    })
    .nullable()
    .describe(
      "the submission's estimate from the dataset's tokens beside what the run measured (actual / estimate - 1)",
    ),
  attempts: z.number().int(),
  retryOfId: z.string().uuid().nullable(),
  resume: z
    .object({
      attempt: z.number().int(),
      resumeOfId: z.string().uuid().nullable(),
      resumedFromStep: z.number().int().nullable(),
      resumedFromPath: z.string().nullable(),
      autoResumeMaxAttempts: z.number().int(),
    })
    .describe(
      "its place in a chain of resumed attempts (issue 27); GET /v1/deployments/{id} adds attempts (each one's cost and saving), totalCostUsd and savedUsd",
    ),
  timestamps: z.object({
    createdAt: when,
    provisioningAt: when.nullable(),
    podCreatedAt: when.nullable(),
    runningAt: when.nullable(),
    trainingStartedAt: when.nullable(),
    finishedAt: when.nullable(),
    podTerminatedAt: when.nullable(),
    lastHeartbeatAt: when.nullable(),
  }),
});

export const phaseTimeSchema = z
  .looseObject({
    name: z.string(),
    seconds: z.number().nullable(),
    ok: z.boolean().optional(),
    done: z.number().int().optional(),
    total: z.number().int().optional(),
    unit: z.string().optional(),
  })
  .describe(
    "an ended phase: the seconds it took and what its end reported (ok, done, total, unit, extra numeric facts)",
  );
export const deploymentWithEventsSchema = deploymentSchema.extend({
  phases: z.array(phaseTimeSchema).describe("the time spent in each ended phase, in their order"),
  events: z.array(eventSchema),
});
export const deploymentPageSchema = z.object({
  items: z.array(deploymentSchema),
  nextCursor: z.string().uuid().nullable(),
});

export const datasetSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  format: z.enum(DATASET_FORMATS),
  rowCount: z.number().int(),
  sizeBytes: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: when,
});
export const datasetPageSchema = z.object({ items: z.array(datasetSchema), nextCursor: z.string().uuid().nullable() });

export { estimateSchema, validateOkSchema } from "./estimate-schemas";
export const okSchema = z.object({ ok: z.literal(true) });
export const runEventAnswerSchema = okSchema.extend({
  applied: z
    .literal(false)
    .optional()
    .describe("present when the event changed nothing: a repeat of its seq, or a second outcome"),
});
export const healthSchema = z.object({ status: z.literal("ok") });
export const readySchema = z.object({
  status: z.enum(["ready", "not_ready"]),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});
