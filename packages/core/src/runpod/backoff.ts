import type { AppError } from "../errors/app-error";
import { RateLimitedError, RunPodUnavailableError } from "./errors";

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(max, base * 2^(attempt-1))).
 * `attempt` is the attempt that just failed, from 1. `random` returns [0, 1) (injected by tests).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After as milliseconds: delta-seconds ("3", "1.5") or an HTTP date (then relative to
 * `nowMs`, never negative). Undefined when absent or unparseable.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // an HTTP date always names its day and month; this keeps "-1" and other numbers out of Date.parse
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** A Retry-After longer than this is not waited out inside one call: the error goes to the caller's job. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface RetryDecisionInput extends BackoffOptions {
  error: AppError;
  /** the attempt that just failed, from 1 */
  attempt: number;
  maxRetries: number;
  /**
   * May the request be sent again after an ambiguous failure (5xx, timeout, dropped connection)?
   * True for reads and idempotent writes; false for POST /pods unless the caller opted in.
   */
  retryAmbiguous: boolean;
  random?: () => number;
}

/**
 * How long to wait before the next attempt, or null to give up and throw `error`.
 * - 429: always safe (RunPod refused before doing anything); waits Retry-After when given, else backoff.
 * - 5xx, timeouts, network errors: only when `retryAmbiguous`.
 * - no capacity, 4xx, bad bodies: never here. No capacity is `retryable` for the caller's job, which
 *   retries on a scale of minutes; spinning on it inside one call would not bring a GPU back.
 */
export function retryDelayMs(input: RetryDecisionInput): number | null {
  if (input.attempt > input.maxRetries) return null;
  const backoff = (): number => backoffDelayMs(input.attempt, input, input.random);
  const { error } = input;
  if (error instanceof RateLimitedError) {
    if (error.retryAfterMs === undefined) return backoff();
    return error.retryAfterMs > MAX_RETRY_AFTER_MS ? null : error.retryAfterMs;
  }
  if (error instanceof RunPodUnavailableError && input.retryAmbiguous) return backoff();
  return null;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
