import { imageAllowed, type EffectiveLimits, type SpendSettings } from "../spend/settings";
import { type DeploymentRequest } from "./request-schema";
import { microsToUsd, usdToMicros } from "../pricing/money";
import type { PreflightProblem } from "./preflight";
import { parseImageReference } from "./image-reference";

/**
 * The server's ceilings on one request (MAX_GPU_COUNT, MAX_RUNTIME_MINUTES, MAX_COST_USD_PER_DEPLOYMENT, the
 * user's USER_MAX_GPUS) and its image rule (ALLOWED_IMAGES and the user's extra patterns). Pure.
 */
export function checkSpendRules(
  req: DeploymentRequest,
  spend: SpendSettings | undefined,
  limits: EffectiveLimits | undefined,
): PreflightProblem[] {
  if (!spend) return [];
  const problems: PreflightProblem[] = [];
  const caps = spend.caps;
  const gpuCap = Math.min(caps.maxGpuCount, limits && limits.maxGpus > 0 ? limits.maxGpus : Number.POSITIVE_INFINITY);
  if (req.gpuCount > gpuCap)
    problems.push({
      code: "GPU_COUNT_OVER_LIMIT",
      field: "gpuCount",
      message: `gpuCount ${req.gpuCount} is over the limit of ${gpuCap}`,
    });
  if (req.maxRuntimeMinutes > caps.maxRuntimeMinutes) {
    problems.push({
      code: "RUNTIME_OVER_LIMIT",
      field: "maxRuntimeMinutes",
      message: `maxRuntimeMinutes ${req.maxRuntimeMinutes} is over the limit of ${caps.maxRuntimeMinutes}`,
    });
  }
  if (usdToMicros(req.maxCostUsd) > caps.maxCostMicros) {
    problems.push({
      code: "COST_OVER_LIMIT",
      field: "maxCostUsd",
      message: `maxCostUsd ${req.maxCostUsd} is over the limit of ${microsToUsd(caps.maxCostMicros)} per deployment`,
    });
  }
  const patterns = limits?.allowedImages ?? spend.allowedImages;
  // a malformed reference is IMAGE_INVALID (reference-rules.ts): the allowlist sees only well-formed, normalized ones
  if (parseImageReference(req.image).ok && !imageAllowed(req.image, patterns)) {
    problems.push({
      code: "IMAGE_NOT_ALLOWED",
      field: "image",
      message: `image ${JSON.stringify(req.image)} is not allowed here; allowed: ${patterns.join(", ")}`,
    });
  }
  return problems;
}
