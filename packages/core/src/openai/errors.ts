import type { ErrorCode } from "../errors";

/** OpenAI's error body: `{"error": {"message", "type", "param", "code"}}` (what its SDKs parse into their errors). */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * OpenAI's status and body for a trainpod error: the status stays trainpod's, except that a refused request body
 * (422: invalid hyperparameters, a failed pre-flight, a budget) is OpenAI's 400; the type is OpenAI's for the status
 * (`invalid_request_error`, `authentication_error`, `rate_limit_error`, `server_error`) and the code is trainpod's in
 * lower case (`invalid_api_key` for a missing or bad key, as OpenAI answers it).
 */
export function openAiError(
  status: number,
  code: ErrorCode | string,
  message: string,
  param: string | null = null,
): { status: number; body: OpenAiErrorBody } {
  const s = status === 422 ? 400 : status;
  const type =
    s === 401
      ? "invalid_request_error"
      : s === 403
        ? "permission_error"
        : s === 429
          ? "rate_limit_error"
          : s >= 500
            ? "server_error"
            : "invalid_request_error";
  const lower = code === "UNAUTHORIZED" ? "invalid_api_key" : code.toLowerCase();
  return { status: s, body: { error: { message, type, param, code: lower } } };
}

/** trainpod's field paths as the OpenAI request names them (a refusal's `param`). */
const PARAM_OF: ReadonlyArray<[RegExp, string]> = [
  [/^datasetId$/, "training_file"],
  [/^baseModel$/, "model"],
  [/^hyperparameters\.epochs$/, "hyperparameters.n_epochs"],
  [/^hyperparameters\.(batch_size|gradient_accumulation_steps)$/, "hyperparameters.batch_size"],
  [/^hyperparameters\.learning_rate$/, "hyperparameters.learning_rate_multiplier"],
  [/^hyperparameters\.dpo_beta$/, "method.dpo.hyperparameters.beta"],
  [/^hyperparameters\.seed$/, "seed"],
  [/^hyperparameters\.eval_fraction$/, "metadata.trainpod_eval_fraction"],
  [/^hyperparameters\./, "metadata.trainpod_hyperparameters"],
  [/^gpuTypeIds/, "metadata.trainpod_gpu_types"],
  [/^gpuCount$/, "metadata.trainpod_gpu_count"],
  [/^cloudType$/, "metadata.trainpod_cloud_type"],
  [/^image$/, "metadata.trainpod_image"],
  [/^maxCostUsd$/, "metadata.trainpod_max_cost_usd"],
  [/^maxRuntimeMinutes$/, "metadata.trainpod_max_runtime_minutes"],
  [/^secrets/, "metadata.trainpod_secrets"],
  [/^wandb/, "integrations"],
];

/** The OpenAI param of a trainpod field path (as is when none maps). */
export function openAiParam(path: string): string {
  for (const [pattern, param] of PARAM_OF) if (pattern.test(path)) return param;
  return path;
}
