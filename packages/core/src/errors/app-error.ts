/** Every error code trainpod raises on purpose. The API maps each to an HTTP status in one table. */
export const ERROR_CODES = [
  "VALIDATION_FAILED",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNPROCESSABLE",
  "PREFLIGHT_FAILED",
  /** the submission could take the user's month spend over their budget */
  "BUDGET_LIMIT",
  /** all of a deployment's artifacts together would exceed ARTIFACT_MAX_TOTAL_BYTES */
  "ARTIFACT_QUOTA_EXCEEDED",
  /** uploaded bytes do not have the declared size or sha256; nothing was kept */
  "CHECKSUM_MISMATCH",
  /** the deployment is still live (queued, provisioning or running) */
  "DEPLOYMENT_LIVE",
  /** a live deployment uses the dataset */
  "DATASET_IN_USE",
  /** the storage is the API's disk, not a bucket: there is no presigned URL to give */
  "NOT_A_BUCKET",
  /** a Range outside the file */
  "RANGE_NOT_SATISFIABLE",
  "RATE_LIMITED",
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  "TOKEN_REVOKED",
  "TOKEN_USED",
  "CONFIG_INVALID",
  "RUNPOD_NO_CAPACITY",
  "RUNPOD_RATE_LIMITED",
  "RUNPOD_UNAUTHORIZED",
  "RUNPOD_FORBIDDEN",
  "RUNPOD_INSUFFICIENT_BALANCE",
  "RUNPOD_CONTRACT_VIOLATION",
  "RUNPOD_NOT_FOUND",
  "RUNPOD_CONFLICT",
  "RUNPOD_BAD_REQUEST",
  "RUNPOD_UNAVAILABLE",
  "RUNPOD_BAD_RESPONSE",
  /** the model hub did not answer (network, timeout, 429, 5xx): try again later */
  "HUB_UNAVAILABLE",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  /** may the operation succeed if tried again later? */
  retryable?: boolean;
  details?: unknown;
  cause?: unknown;
}

/** The one error type of trainpod. `retryable: false` becomes BullMQ's UnrecoverableError in the worker. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
