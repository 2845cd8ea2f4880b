import { AppError, type AppErrorOptions } from "../errors/app-error";

/**
 * Typed RunPod errors. `retryable` tells the caller's job (BullMQ) whether a later attempt can
 * succeed; whether the *client* retries at once is decided separately, in backoff.ts.
 * Messages and `details` carry the endpoint template, method, status and RunPod's own message,
 * never the API key or any header.
 */
type RunPodErrorOptions = Omit<AppErrorOptions, "retryable">;

/**
 * Create answered 400: this GPU type (and data centre) cannot be placed now, or the body breaks a
 * cross-field rule. RunPod gives capacity exhaustion no code of its own, only `detail`, so the
 * caller tries its next candidate; when every candidate says 400 it waits for capacity (and shows
 * the last `detail`, in case it was the request after all).
 */
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

/** 401: the key is wrong or revoked. Final. */
export class UnauthorizedError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_UNAUTHORIZED", message, { ...options, retryable: false });
  }
}

/** 403: this key or account may not do this (on create: this GPU pool; skip the candidate). Final. */
export class ForbiddenError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_FORBIDDEN", message, { ...options, retryable: false });
  }
}

/** 402: the RunPod account's balance is too low. No candidate and no retry can succeed. Final. */
export class InsufficientBalanceError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_INSUFFICIENT_BALANCE", message, { ...options, retryable: false });
  }
}

/** 422: our request breaks RunPod's contract (`errors` lists each violation): a bug, never retried. */
export class ContractViolationError extends AppError {
  readonly violations: string[];
  constructor(message: string, violations: string[], options: RunPodErrorOptions = {}) {
    super("RUNPOD_CONTRACT_VIOLATION", message, { ...options, retryable: false });
    this.violations = violations;
  }
}

/** 404: no such pod. Final. */
export class NotFoundError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_NOT_FOUND", message, { ...options, retryable: false });
  }
}

/** 409: the action is not valid in the pod's state (or the pod belongs to a cluster). Final. */
export class ConflictError extends AppError {
  constructor(message: string, options: RunPodErrorOptions = {}) {
    super("RUNPOD_CONFLICT", message, { ...options, retryable: false });
  }
}

/** 400 (outside create) and other 4xx, or an input that fails our own schema before sending. Final. */
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
  | ForbiddenError
  | InsufficientBalanceError
  | ContractViolationError
  | NotFoundError
  | ConflictError
  | BadRequestError
  | RunPodUnavailableError
  | BadResponseError;
