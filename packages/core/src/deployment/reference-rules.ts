import { baseModelProblem } from "./base-model";
import { parseImageReference } from "./image-reference";
import type { PreflightProblem } from "./preflight";
import type { DeploymentRequest } from "./request-schema";

/**
 * The request's references, parsed (issue 34): the image by the distribution grammar, before any allowlist sees it
 * (an empty one is IMAGE_MISSING), and the base model as a hub repo id or an absolute path on the pod. Each refusal
 * names the field and why. Pure.
 */
export function referenceProblems(req: Pick<DeploymentRequest, "image" | "baseModel">): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const image = req.image.trim() === "" ? null : parseImageReference(req.image);
  if (image !== null && !image.ok)
    problems.push({
      code: "IMAGE_INVALID",
      field: "image",
      message: `image ${JSON.stringify(req.image)} is not a valid image reference: ${image.reason}`,
    });
  const model = baseModelProblem(req.baseModel);
  if (model !== null)
    problems.push({
      code: "BASE_MODEL_INVALID",
      field: "baseModel",
      message: `baseModel ${JSON.stringify(req.baseModel)} is neither a hub repo id nor an absolute path: ${model}`,
    });
  return problems;
}
