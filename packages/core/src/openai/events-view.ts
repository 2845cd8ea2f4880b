import type { DeploymentEvent } from "../db";
import { openAiId, unixSeconds } from "./ids";

/**
 * A deployment's events as OpenAI's fine-tuning job events (GET .../events): the run's phases, progress (a `metrics`
 * event with the step, train and eval loss), and its outcome (a failure at level `error`). Other rows (heartbeats,
 * log lines, billing) are trainpod's own and not listed.
 */
export const LISTED_EVENT_TYPES = [
  "submitted",
  "slot_acquired",
  "pod_created",
  "pod_adopted",
  "running",
  "dataset_downloaded",
  "phase_started",
  "phase_ended",
  "progress",
  "wandb",
  "hub_push",
  "succeeded",
  "failed",
  "cancelled",
  "pod_terminated",
] as const;

type Data = Record<string, unknown>;
const n = (v: unknown) => (typeof v === "number" ? v : null);

function message(e: DeploymentEvent, jobId: string): string {
  const data = (e.data ?? {}) as Data;
  switch (e.type) {
    case "submitted":
      return `Created fine-tuning job: ${jobId}`;
    case "progress": {
      const eval_ = n(data.evalLoss);
      return `Step ${String(data.step)}/${String(data.totalSteps ?? "?")}: training loss=${String(data.loss ?? "?")}${eval_ !== null ? `, validation loss=${eval_}` : ""}`;
    }
    case "succeeded":
      return "The job has successfully completed";
    case "cancelled":
      return "The job has been cancelled";
    case "failed":
      return `The job failed: ${e.message ?? "unknown reason"}`;
    default:
      return e.message ?? e.type.replace(/_/g, " ");
  }
}

/** One deployment event as OpenAI's event object. */
export function eventObject(e: DeploymentEvent, deploymentId: string) {
  const data = (e.data ?? {}) as Data;
  const metrics = e.type === "progress";
  return {
    id: openAiId("event", e.id),
    object: "fine_tuning.job.event" as const,
    created_at: unixSeconds(e.createdAt),
    level: e.type === "failed" ? ("error" as const) : ("info" as const),
    message: message(e, openAiId("job", deploymentId)),
    type: metrics ? ("metrics" as const) : ("message" as const),
    data: metrics
      ? {
          step: n(data.step),
          total_steps: n(data.totalSteps),
          train_loss: n(data.loss),
          ...(data.evalLoss !== undefined ? { valid_loss: n(data.evalLoss) } : {}),
        }
      : { trainpod_type: e.type, ...data },
  };
}

/** A stored checkpoint of a job (core's listCheckpoints: the resume work's complete checkpoints). */
export interface CheckpointInput {
  step: number;
  /** its folder among the artifacts, e.g. checkpoints/step-000120 */
  path: string;
  createdAt: string | Date;
}

/** A checkpoint as OpenAI's checkpoint object (its files: the job's artifacts under `trainpod_path`). */
export function checkpointObject(c: CheckpointInput, deploymentId: string, baseModel: string) {
  const jobId = openAiId("job", deploymentId);
  return {
    id: `ftckpt-${deploymentId}-${c.step}`,
    object: "fine_tuning.job.checkpoint" as const,
    created_at: unixSeconds(new Date(c.createdAt)),
    fine_tuned_model_checkpoint: `ft:${baseModel}:trainpod:${jobId}:ckpt-step-${c.step}`,
    fine_tuning_job_id: jobId,
    step_number: c.step,
    metrics: { step: c.step },
    trainpod_path: c.path,
  };
}
