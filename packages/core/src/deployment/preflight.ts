import { AppError } from "../errors";
import type { PrismaClient } from "../db";
import { costForSeconds } from "./cost";
import { tablePriceList, type GpuPriceList } from "../pricing/price-list";
import { pricedGpuTypes, priciest } from "../pricing/estimate";
import { publicUrlProblem } from "./public-url";
import { type DeploymentRequest } from "./request-schema";
import { checkModel, uncheckedModel, type ModelCheck, type ModelPreflightDeps } from "../hub/model-preflight";
import { trainingMethod, type TrainingMethod } from "./hyperparameters";
import { DATASET_FORMATS } from "../datasets/jsonl-format";
import { PREFERENCE_FORMATS } from "../datasets/preference-rows";
import { microsToUsd, usdToMicros } from "../pricing/money";
import { checkSpendRules } from "./spend-rules";
import { referenceProblems } from "./reference-rules";
import { cacheMountProblem } from "./base-model";
import { secretRequirementProblems, unknownSecretProblems } from "../secrets/secret-rules";
import { effectiveLimits } from "../spend/user-limits";
import type { EffectiveLimits, SpendSettings } from "../spend/settings";
import type { UserLimitsCache } from "../spend/user-limits-cache";

export type PreflightCode =
  | "DATASET_NOT_FOUND"
  | "DATASET_NOT_VALIDATED"
  | "DATASET_METHOD_MISMATCH"
  | "UNKNOWN_GPU_TYPE"
  | "IMAGE_MISSING"
  | "IMAGE_NOT_ALLOWED"
  | "IMAGE_INVALID"
  | "BASE_MODEL_INVALID"
  | "GPU_COUNT_OVER_LIMIT"
  | "RUNTIME_OVER_LIMIT"
  | "COST_OVER_LIMIT"
  | "BUDGET_BELOW_SETUP"
  | "PUBLIC_URL_UNREACHABLE"
  /** the hub model cannot be read: not found, gated without HF_TOKEN, or the token lacks access (hub/model-access.ts) */
  | "MODEL_ACCESS"
  /** no requested GPU type holds the run's estimated memory (hub/memory-estimate.ts) */
  | "GPU_MEMORY_TOO_SMALL"
  /** a name in `secrets` the user has not set (POST /v1/secrets) */
  | "SECRET_NOT_FOUND"
  /** `hub` without HF_TOKEN, or `wandb` without WANDB_API_KEY, in `secrets` */
  | "SECRET_REQUIRED"
  /** `hub.merged` asks to push merged weights the run would not make (hyperparameters.merge_adapter false) */
  | "HUB_MERGED_NEEDS_MERGE";

export interface PreflightProblem {
  code: PreflightCode;
  /** the request field at fault, when there is one */
  field?: string;
  message: string;
  /** machine-readable facts of the problem (MODEL_ACCESS's reason, GPU_MEMORY_TOO_SMALL's estimate) */
  details?: Record<string, string | number>;
}

/** What the checks need of the running configuration. */
export interface PreflightContext {
  /** Config.publicUrl: the base of every URL a pod calls back */
  publicUrl: string;
  /** Config.runpod.local: pods run on this machine (the simulator), so localhost callbacks work */
  simulated: boolean;
  /** GPU list prices: RunPod's catalog when it could be read (default: the offline table) */
  prices?: GpuPriceList;
  /** the spend rules (caps, images, per-user limits); absent: none */
  spend?: SpendSettings;
  /** the API process's cache of users' limits (over `spend`'s defaults); absent: read from the table each time */
  limitsCache?: UserLimitsCache;
  /** the hub and the user's HF_TOKEN for the model pre-flight (hub/model-preflight.ts); absent: not checked */
  models?: ModelPreflightDeps;
  /** CACHE_VOLUME_MOUNT_PATH: no base model may be read from under it (default /trainpod-cache) */
  cacheMountPath?: string;
}

/** The model pre-flight (hub access, GPU memory) of a request; nothing checked when the context has no hub. */
export function modelPreflight(ctx: PreflightContext, userId: string, req: DeploymentRequest): Promise<ModelCheck> {
  if (!ctx.models) return Promise.resolve(uncheckedModel(req));
  return checkModel(ctx.models, ctx.prices ?? tablePriceList, userId, req);
}

/** The user's limits when there are spend rules: from the process's cache when it has one. */
export function userLimitsFor(
  prisma: PrismaClient,
  ctx: PreflightContext,
  userId: string,
): Promise<EffectiveLimits | undefined> {
  if (!ctx.spend) return Promise.resolve(undefined);
  return ctx.limitsCache ? ctx.limitsCache.get(userId) : effectiveLimits(prisma, ctx.spend, userId);
}

/** the formats a dataset that passed validation has (the upload's validator decides) */
export const VALIDATED_DATASET_FORMATS: string[] = [...DATASET_FORMATS];
const VALIDATED = new Set(VALIDATED_DATASET_FORMATS);
/** the dataset formats each training method trains on (issue 26 item 5) */
export const METHOD_DATASET_FORMATS: Record<TrainingMethod, readonly string[]> = {
  sft: ["chat", "prompt_completion"],
  dpo: PREFERENCE_FORMATS,
};

/** The problem of a validated dataset whose format the request's method does not train on, or null. Pure. */
export function methodFormatProblem(req: DeploymentRequest, format: string): PreflightProblem | null {
  const method = trainingMethod(req.hyperparameters);
  const formats = METHOD_DATASET_FORMATS[method];
  if (formats.includes(format)) return null;
  const wanted = method === "dpo" ? "rows {prompt, chosen, rejected}" : "chat or prompt/completion rows";
  const other = method === "dpo" ? "leave method out (sft)" : 'set hyperparameters.method "dpo"';
  return {
    code: "DATASET_METHOD_MISMATCH",
    field: "hyperparameters.method",
    message: `method ${method} trains on ${wanted} (formats ${formats.join(", ")}); dataset ${req.datasetId} is ${format}: choose a ${formats.join(" or ")} dataset, or ${other}`,
  };
}

/** The checks that need no database: GPU types, image, caps, budget against setup, callback URL. Pure. */
export function checkRequestRules(
  req: DeploymentRequest,
  ctx: PreflightContext,
  limits?: EffectiveLimits,
): PreflightProblem[] {
  const problems: PreflightProblem[] = [...checkSpendRules(req, ctx.spend, limits)];
  const prices = ctx.prices ?? tablePriceList;
  req.gpuTypeIds.forEach((id, i) => {
    if (prices.perGpuMicros(id, req.cloudType) === null)
      problems.push({
        code: "UNKNOWN_GPU_TYPE",
        field: `gpuTypeIds.${i}`,
        message: `unknown GPU type ${JSON.stringify(id)}`,
      });
  });
  if (req.image.trim() === "")
    problems.push({ code: "IMAGE_MISSING", field: "image", message: "image must name a container image" });
  problems.push(...referenceProblems(req));
  const cached = cacheMountProblem(req.baseModel, ctx.cacheMountPath ?? "/trainpod-cache");
  if (cached !== null)
    problems.push({ code: "BASE_MODEL_INVALID", field: "baseModel", message: `baseModel ${req.baseModel}: ${cached}` });
  problems.push(...secretRequirementProblems(req));
  if (req.hub?.merged && !req.hyperparameters.merge_adapter)
    problems.push({
      code: "HUB_MERGED_NEEDS_MERGE",
      field: "hub.merged",
      message:
        "hub.merged pushes the merged weights, which only a run with hyperparameters.merge_adapter true makes: set it, or drop hub.merged to push the adapter alone",
    });
  const worst = priciest(pricedGpuTypes(req, prices));
  if (worst !== undefined) {
    const setup = costForSeconds(worst.podHourMicros, req.setupTimeoutMinutes * 60);
    if (usdToMicros(req.maxCostUsd) < setup) {
      problems.push({
        code: "BUDGET_BELOW_SETUP",
        field: "maxCostUsd",
        message: `maxCostUsd ${req.maxCostUsd} does not cover the ${req.setupTimeoutMinutes}-minute setup time on ${req.gpuCount} × ${worst.gpuTypeId} (${microsToUsd(setup)} USD); raise maxCostUsd or lower setupTimeoutMinutes`,
      });
    }
  }
  const url = publicUrlProblem(ctx.publicUrl, ctx.simulated);
  if (url !== null) problems.push({ code: "PUBLIC_URL_UNREACHABLE", message: url });
  return problems;
}

/** Every pre-flight problem of a parsed request, all at once: the dataset (exists, is the user's, validated) and the rules. */
export async function preflight(
  prisma: PrismaClient,
  ctx: PreflightContext,
  userId: string,
  req: DeploymentRequest,
  /** the model pre-flight's answer when the caller has it already (submitDeployment) */
  model?: ModelCheck,
): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [...(model ?? (await modelPreflight(ctx, userId, req))).problems];
  const limits = await userLimitsFor(prisma, ctx, userId);
  const dataset = await prisma.dataset.findFirst({
    where: { id: req.datasetId, userId, deletedAt: null },
    select: { format: true, rowCount: true },
  });
  if (!dataset) {
    problems.push({ code: "DATASET_NOT_FOUND", field: "datasetId", message: `dataset ${req.datasetId} not found` });
  } else if (!VALIDATED.has(dataset.format) || dataset.rowCount < 1) {
    problems.push({
      code: "DATASET_NOT_VALIDATED",
      field: "datasetId",
      message: `dataset ${req.datasetId} did not pass format validation`,
    });
  } else {
    const mismatch = methodFormatProblem(req, dataset.format);
    if (mismatch !== null) problems.push(mismatch);
  }
  problems.push(...(await unknownSecretProblems(prisma, userId, req)));
  return [...problems, ...checkRequestRules(req, ctx, limits)];
}

/** Throws one PREFLIGHT_FAILED error (HTTP 422) listing every problem. */
export function assertPreflight(problems: PreflightProblem[]): void {
  if (problems.length > 0) {
    throw new AppError("PREFLIGHT_FAILED", `pre-flight checks failed: ${problems.map((p) => p.code).join(", ")}`, {
      details: { problems },
    });
  }
}
