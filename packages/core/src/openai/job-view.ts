import type { Dataset, Deployment, DeploymentStatus } from "../db";
import { BASE_LEARNING_RATE, type JobExtras } from "./job-request";
import { openAiId, unixSeconds } from "./ids";

/** OpenAI's fine-tuning job statuses. */
export type OpenAiJobStatus = "validating_files" | "queued" | "running" | "succeeded" | "failed" | "cancelled";

/**
 * trainpod's status as OpenAI's: QUEUED (waiting for a slot or a GPU) is `queued`; PROVISIONING (the pod is being
 * created and billed) and RUNNING are `running`. Files are validated at upload, so a job is never `validating_files`.
 */
export const STATUS_MAP: Record<DeploymentStatus, OpenAiJobStatus> = {
  QUEUED: "queued",
  PROVISIONING: "running",
  RUNNING: "running",
  SUCCEEDED: "succeeded",
  FAILED: "failed",
  CANCELLED: "cancelled",
};

/** The outcomes that have a webhook event, by trainpod status. */
export const WEBHOOK_EVENT_TYPES = {
  SUCCEEDED: "fine_tuning.job.succeeded",
  FAILED: "fine_tuning.job.failed",
  CANCELLED: "fine_tuning.job.cancelled",
} as const;

/** A dataset as OpenAI's file object. */
export function fileObject(d: Dataset) {
  return {
    id: openAiId("file", d.id),
    object: "file" as const,
    bytes: Number(d.sizeBytes),
    created_at: unixSeconds(d.createdAt),
    filename: d.name,
    purpose: "fine-tune" as const,
    status: "processed" as const,
    status_details: null,
    expires_at: null,
  };
}

type Hp = Record<string, unknown>;
const num = (hp: Hp, key: string) => (typeof hp[key] === "number" ? (hp[key] as number) : undefined);

/** trainpod's hyperparameters as OpenAI's three ("auto" where trainpod's default holds). */
export function openAiHyperparameters(hp: Hp) {
  const batch = num(hp, "batch_size");
  const accumulation = num(hp, "gradient_accumulation_steps");
  const lr = num(hp, "learning_rate");
  return {
    n_epochs: num(hp, "epochs") ?? ("auto" as const),
    batch_size: batch !== undefined && accumulation !== undefined ? batch * accumulation : ("auto" as const),
    learning_rate_multiplier: lr !== undefined ? Number((lr / BASE_LEARNING_RATE).toPrecision(12)) : ("auto" as const),
  };
}

function methodOf(hp: Hp) {
  const hyperparameters = openAiHyperparameters(hp);
  if (hp.method === "dpo")
    return {
      type: "dpo" as const,
      dpo: { hyperparameters: { ...hyperparameters, beta: num(hp, "dpo_beta") ?? ("auto" as const) } },
    };
  return { type: "supervised" as const, supervised: { hyperparameters } };
}

/** The model name of a succeeded job's adapter: `ft:<base model>:trainpod[:<suffix>]:<job id>`; null otherwise. */
export function fineTunedModelName(
  d: Pick<Deployment, "id" | "status" | "baseModel" | "artifactsDeletedAt">,
  suffix: string | null,
): string | null {
  if (d.status !== "SUCCEEDED" || d.artifactsDeletedAt !== null) return null;
  return ["ft", d.baseModel, "trainpod", ...(suffix ? [suffix] : []), openAiId("job", d.id)].join(":");
}

/** A deployment as OpenAI's fine-tuning job object. */
export function jobObject(d: Deployment, extras: JobExtras | null) {
  const hp = (d.hyperparameters ?? {}) as Hp;
  const method = methodOf(hp);
  const estimatedFinish =
    d.runningAt && d.estimatedSeconds !== null && STATUS_MAP[d.status] === "running"
      ? unixSeconds(d.runningAt) + d.estimatedSeconds
      : null;
  return {
    id: openAiId("job", d.id),
    object: "fine_tuning.job" as const,
    created_at: unixSeconds(d.createdAt),
    finished_at: d.finishedAt ? unixSeconds(d.finishedAt) : null,
    model: d.baseModel,
    organization_id: `user-${d.userId}`,
    status: STATUS_MAP[d.status],
    training_file: openAiId("file", d.datasetId),
    validation_file: null,
    hyperparameters: method.type === "dpo" ? method.dpo.hyperparameters : method.supervised.hyperparameters,
    method,
    seed: num(hp, "seed") ?? 42,
    fine_tuned_model: fineTunedModelName(d, extras?.suffix ?? null),
    result_files: [] as string[],
    trained_tokens: d.status === "SUCCEEDED" && d.trainTokens !== null ? Number(d.trainTokens) : null,
    error:
      d.status === "FAILED"
        ? { code: (d.failureReason ?? "failed").toLowerCase(), message: firstLine(d.failureMessage), param: null }
        : null,
    estimated_finish: estimatedFinish,
    integrations: (extras?.integrations as unknown[] | null) ?? [],
    metadata: extras?.metadata ?? null,
    user_provided_suffix: extras?.suffix ?? null,
  };
}

function firstLine(message: string | null): string {
  return (message ?? "the job failed").split("\n")[0]?.slice(0, 1000) ?? "the job failed";
}
