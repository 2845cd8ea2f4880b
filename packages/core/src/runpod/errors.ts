import { AppError, type AppErrorOptions } from "../errors/app-error";

/**
 * Typed RunPod errors. `retryable` tells the caller's job (BullMQ) whether a later attempt can
 * succeed; whether the *client* retries at once is decided separately, in retry.ts.
 * Messages and `details` carry the endpoint template, method, status and RunPod's own message,
 * never the API key or any header.
 */
type RunPodErrorOptions = Omit<AppErrorOptions, "retryable">;

/** RunPod has no GPU of the requested types right now. Retry later (minutes, not milliseconds). */
export class NoCapacityError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_NO_CAPACITY", message, { ...options, retryable: true });
  }
}

/** 429. `retryAfterMs` is RunPod's Retry-After when it sent one. */
export class RateLimitedError extends AppError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs: number | undefined, options: RunPodErrorOptions = {}) {
    super("RUNPOD_RATE_LIMITED", message, { ...options, retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

/** 401/403: the key is wrong, revoked or lacks the permission. Final. */
export class UnauthorizedError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_UNAUTHORIZED", message, { ...options, retryable: false });
  }
}

/** 404: no such pod. Final. */
export class NotFoundError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_NOT_FOUND", message, { ...options, retryable: false });
  }
}

/** 400 and other 4xx, or an input that fails our own schema before sending. Final. */
export class BadRequestError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_BAD_REQUEST", message, { ...options, retryable: false });
  }
}

/** What went wrong on the way: RunPod's 5xx, a timeout, or a network error / dropped connection. */
export type UnavailableReason = "server" | "timeout" | "network";

/**
 * RunPod could not be reached or failed. Retryable. `reason` matters for POST /pods: after a
 * timeout, a dropped connection or a 5xx the pod may exist all the same (see rest-client.ts).
 */
export class RunPodUnavailableError extends AppError {
  readonly reason: UnavailableReason;
  constructor(message: string, reason: UnavailableReason, options: RunPodErrorOptions = {}) {
    super("RUNPOD_UNAVAILABLE", message, { ...options, retryable: true });
    this.reason = reason;
  }
}

/** A 2xx whose body is not what the spec promises. Final: retrying will not change RunPod's shape. */
export class BadResponseError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_BAD_RESPONSE", message, { ...options, retryable: false });
  }
}

export type RunPodError =
  | NoCapacityError
  | RateLimitedError
  | UnauthorizedError
  | NotFoundError
  | BadRequestError
  | RunPodUnavailableError
  | BadResponseError;
