import { AppError } from "../errors";
import type { PrismaClient } from "../db";
import { costForSeconds } from "./cost";
import { tablePriceList, type GpuPriceList } from "../pricing/price-list";
import { pricedGpuTypes, priciest } from "../pricing/estimate";
import { publicUrlProblem } from "./public-url";
import { type DeploymentRequest } from "./request-schema";
import { microsToUsd, usdToMicros } from "../pricing/money";
import { checkSpendRules } from "./spend-rules";
import { referenceProblems } from "./reference-rules";
import { effectiveLimits } from "../spend/user-limits";
import type { EffectiveLimits, SpendSettings } from "../spend/settings";
import type { UserLimitsCache } from "../spend/user-limits-cache";

export type PreflightCode =
  | "DATASET_NOT_FOUND"
  | "DATASET_NOT_VALIDATED"
  | "UNKNOWN_GPU_TYPE"
  | "IMAGE_MISSING"
  | "IMAGE_NOT_ALLOWED"
  | "IMAGE_INVALID"
  | "BASE_MODEL_INVALID"
  | "GPU_COUNT_OVER_LIMIT"
  | "RUNTIME_OVER_LIMIT"
  | "COST_OVER_LIMIT"
  | "BUDGET_BELOW_SETUP"
  | "PUBLIC_URL_UNREACHABLE";

export interface PreflightProblem {
  code: PreflightCode;
  /** the request field at fault, when there is one */
  field?: string;
  message: string;
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
export const VALIDATED_DATASET_FORMATS = ["chat", "prompt_completion"];
const DATASET_FORMATS = new Set(VALIDATED_DATASET_FORMATS);

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
): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  const limits = await userLimitsFor(prisma, ctx, userId);
  const dataset = await prisma.dataset.findFirst({
    where: { id: req.datasetId, userId, deletedAt: null },
    select: { format: true, rowCount: true },
  });
  if (!dataset) {
    problems.push({ code: "DATASET_NOT_FOUND", field: "datasetId", message: `dataset ${req.datasetId} not found` });
  } else if (!DATASET_FORMATS.has(dataset.format) || dataset.rowCount < 1) {
    problems.push({
      code: "DATASET_NOT_VALIDATED",
      field: "datasetId",
      message: `dataset ${req.datasetId} did not pass format validation`,
    });
  }
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
