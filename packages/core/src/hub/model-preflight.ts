import type { CloudType } from "../db";
import { baseModelProblem } from "../deployment/base-model";
import { quantizationOf } from "../deployment/hyperparameters";
import type { DeploymentRequest } from "../deployment/request-schema";
import type { Hub } from "./hub-cache";
import { fitGpuTypes, gpuMemories, type GpuMemory } from "./gpu-fit";
import { checkModelAccess, type ModelFacts, type ModelProblem } from "./model-access";
import { gib, TRAINER_DEFAULTS, type MemoryEstimate } from "./memory-estimate";
import { shapeParameters } from "./model-shape";

/** The secret that carries the user's Hugging Face token. */
export const HF_TOKEN_SECRET = "HF_TOKEN";

export interface ModelPreflightDeps {
  hub: Hub;
  /**
   * The user's Hugging Face token when the request names it among its secrets (the secrets module decrypts it);
   * undefined when it does not, or the user has none.
   */
  hubTokenFor(userId: string, secretNames: readonly string[]): Promise<string | undefined>;
}

/** What the pre-flight needs of RunPod's catalog: memory per GPU type, prices to break ties. */
export interface GpuCatalogView {
  gpus?: readonly GpuMemory[];
  perGpuMicros(gpuTypeId: string, cloud: CloudType): bigint | null;
}

export interface ModelCheck {
  problems: ModelProblem[];
  /** the request's GPU types that can hold the run (the request's own when nothing was estimated) */
  gpuTypeIds: string[];
  /** the memory estimate, when the model could be read */
  estimate?: MemoryEstimate;
  /** what the submission's `submitted` event records of this check (estimate, dropped types, a warning) */
  note: Record<string, string>;
  /** the hub said the model is public and ungated: its cached weights may serve every user (absent: unknown, no) */
  shareable?: true;
}

/** Nothing checked: a model on the pod's disk, or no hub configured. */
export const uncheckedModel = (req: Pick<DeploymentRequest, "gpuTypeIds">): ModelCheck => ({
  problems: [],
  gpuTypeIds: req.gpuTypeIds,
  note: {},
});

/**
 * The model pre-flight of a submission (issue 25 items 2 and 3), before anything is written: a hub model must be
 * readable with the user's HF_TOKEN (or none): MODEL_ACCESS otherwise; the run's estimated GPU memory drops the
 * requested GPU types that cannot hold it, and none left is GPU_MEMORY_TOO_SMALL, with the estimate and the
 * smallest type that fits. A model given as a path on the pod is not checked. The hub unreachable does not block:
 * the submission goes on with a warning in its `submitted` event and no estimate (the pod's download, minutes
 * later, fails early and cheaply if the model truly cannot be read).
 */
export async function checkModel(
  deps: ModelPreflightDeps,
  catalog: GpuCatalogView,
  userId: string,
  req: DeploymentRequest,
): Promise<ModelCheck> {
  const repo = req.baseModel;
  if (repo.startsWith("/") || baseModelProblem(repo) !== null) return uncheckedModel(req);
  const token = req.secrets.includes(HF_TOKEN_SECRET) ? await deps.hubTokenFor(userId, [HF_TOKEN_SECRET]) : undefined;
  const access = await checkModelAccess(deps.hub, repo, token);
  if (!access.ok) {
    if ("problem" in access) return { problems: [access.problem], gpuTypeIds: req.gpuTypeIds, note: {} };
    return {
      problems: [],
      gpuTypeIds: req.gpuTypeIds,
      note: { hubWarning: `model access and GPU memory not checked: ${access.unavailable}` },
    };
  }
  const check = checkMemory(access.facts, catalog, req);
  return publicModel(access.facts) ? { ...check, shareable: true } : check;
}

/** A model anyone may download (neither private nor gated): the one kind whose cache is shared between users. */
export function publicModel(facts: ModelFacts): boolean {
  return facts.info.private === false && facts.info.gated === false;
}

/** The run's memory against each requested GPU type (gpu-fit.ts); a pure step of checkModel. */
export function checkMemory(facts: ModelFacts, catalog: GpuCatalogView, req: DeploymentRequest): ModelCheck {
  const parameters = facts.info.safetensors?.total ?? (facts.shape ? shapeParameters(facts.shape) : undefined);
  if (parameters === undefined) return uncheckedModel(req);
  const hp = req.hyperparameters;
  const report = fitGpuTypes(
    req.gpuTypeIds,
    gpuMemories(catalog.gpus),
    {
      parameters,
      shape: facts.shape,
      quantization: quantizationOf(hp),
      loraR: hp.lora_r ?? TRAINER_DEFAULTS.loraR,
      targetModules: hp.target_modules ?? TRAINER_DEFAULTS.targetModules,
      batchSize: hp.batch_size ?? TRAINER_DEFAULTS.batchSize,
      maxSeqLength: hp.max_seq_length ?? TRAINER_DEFAULTS.maxSeqLength,
      shards: hp.distributed === "fsdp" ? req.gpuCount : 1,
      sequencesPerRow: hp.method === "dpo" ? 2 : 1,
    },
    (a, b) => Number((catalog.perGpuMicros(a, req.cloudType) ?? 0n) - (catalog.perGpuMicros(b, req.cloudType) ?? 0n)),
  );
  const e = report.estimate;
  const note: Record<string, string> = { memoryEstimateGiB: String(gib(e.totalBytes)) };
  if (report.dropped.length > 0)
    note.gpuTypesDropped = report.dropped.map((d) => `${d.gpuTypeId} (${d.memoryGb} GB)`).join(", ");
  if (report.kept.length > 0) return { problems: [], gpuTypeIds: report.kept, estimate: e, note };
  const smallest = report.smallestFitting;
  const parts = `weights ${gib(e.weightsBytes)}, LoRA and optimizer ${gib(e.loraBytes)}, activations ${gib(e.activationBytes)}, logits ${gib(e.logitsBytes)}, overhead ${gib(e.overheadBytes)}`;
  const problem: ModelProblem = {
    code: "GPU_MEMORY_TOO_SMALL",
    field: "gpuTypeIds",
    message:
      `the run needs about ${gib(e.totalBytes)} GiB of memory on each GPU (${parts}; docs/api.md#memory-pre-flight), more than ` +
      `any requested GPU type holds (${report.dropped.map((d) => `${d.gpuTypeId}: ${d.memoryGb} GB`).join(", ")}); ` +
      (smallest
        ? `the smallest that fits is ${smallest.gpuTypeId} (${smallest.memoryGb} GB)`
        : "no GPU type RunPod lists fits it") +
      `, or lower batch_size or max_seq_length, or quantize (4bit)`,
    details: {
      estimateGiB: gib(e.totalBytes),
      ...(smallest ? { smallestFittingGpuTypeId: smallest.gpuTypeId, smallestFittingMemoryGb: smallest.memoryGb } : {}),
    },
  };
  return { problems: [problem], gpuTypeIds: [], estimate: e, note };
}

/** The `submitted` event of a deployment that passed the model pre-flight: its estimate, dropped types, warning. */
export function submittedEvent(check: ModelCheck): { message: string; data?: Record<string, string> } | undefined {
  if (Object.keys(check.note).length === 0) return undefined;
  const warning = check.note.hubWarning;
  return { message: warning ? `deployment queued; ${warning}` : "deployment queued", data: check.note };
}
