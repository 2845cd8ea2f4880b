import { redactText } from "../logging/redact";
import {
  BadRequestError,
  BadResponseError,
  NoCapacityError,
  NotFoundError,
  RateLimitedError,
  RunPodUnavailableError,
  UnauthorizedError,
  type RunPodError,
} from "./errors";
import { parseRetryAfter } from "./retry";

/**
 * RunPod's no-capacity wordings. REST v1 answers HTTP 500 with
 * `{"error":"create pod: There are no instances currently available","status":500}`;
 * GraphQL (and runpod-api.md) say "There are no longer any instances available with the
 * requested specifications". Matched on the text whatever the status.
 */
const NO_CAPACITY_PATTERNS: readonly RegExp[] = [
  /no longer any instances available/i,
  /no instances currently available/i,
  /does not have the resources to deploy/i,
  /not enough free gpus/i,
];

const MAX_MESSAGE_CHARS = 500;

export function isNoCapacityMessage(message: string): boolean {
  return NO_CAPACITY_PATTERNS.some((pattern) => pattern.test(message));
}

/** RunPod's error text: REST `{error, status}`, `{message}` (spec's UnauthorizedError), or GraphQL `{errors: [{message}]}`. */
export function extractRunPodMessage(bodyText: string): string {
  const trimmed = bodyText.trim();
  if (trimmed === "") return "";
  try {
    const body: unknown = JSON.parse(trimmed);
    const found = messageOf(body);
    if (found !== undefined) return found.slice(0, MAX_MESSAGE_CHARS);
  } catch {
    // not JSON: fall through to the raw text
  }
  return trimmed.slice(0, MAX_MESSAGE_CHARS);
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === "string") return body;
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ["error", "message", "detail"]) {
    const value = record[key];
    if (typeof value === "string") return value;
    if (typeof value === "object" && value !== null) return messageOf(value);
  }
  if (Array.isArray(record.errors)) return messageOf(record.errors[0]);
  return undefined;
}

/** Removes the API key (and anything bearer- or token-looking) from text that goes into an error. */
export function scrubSecret(text: string, apiKey: string): string {
  const withoutKey = apiKey.length > 0 ? text.split(apiKey).join("[REDACTED]") : text;
  return redactText(withoutKey);
}

export interface FailedCall {
  method: string;
  /** the endpoint template, e.g. `/pods/{podId}` (never the full URL) */
  endpoint: string;
  status: number;
  bodyText: string;
  retryAfter: string | null;
  attempt: number;
  apiKey: string;
  nowMs: number;
}

/** Turns a non-2xx answer into the typed error that says what to do about it. */
export function classifyHttpError(call: FailedCall): RunPodError {
  const runpodMessage = scrubSecret(extractRunPodMessage(call.bodyText), call.apiKey);
  const where = `RunPod ${call.method} ${call.endpoint} answered ${call.status}`;
  const message = runpodMessage === "" ? where : `${where}: ${runpodMessage}`;
  const details = { method: call.method, endpoint: call.endpoint, status: call.status, attempt: call.attempt, runpodMessage };
  const { status } = call;
  if (isNoCapacityMessage(runpodMessage)) return new NoCapacityError(message, { details });
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(call.retryAfter, call.nowMs);
    return new RateLimitedError(message, retryAfterMs, { details: { ...details, retryAfterMs } });
  }
  if (status === 401 || status === 403) return new UnauthorizedError(message, { details });
  if (status === 404) return new NotFoundError(message, { details });
  if (status >= 400 && status < 500) return new BadRequestError(message, { details });
  if (status >= 500) return new RunPodUnavailableError(message, "server", { details });
  return new BadResponseError(`${message} (unexpected status)`, { details });
}

/** A fetch that threw: AbortSignal.timeout fired, or the connection failed or dropped. */
export function classifyFetchFailure(err: unknown, where: { method: string; endpoint: string; attempt: number; timeoutMs: number }): RunPodUnavailableError {
  const base = `RunPod ${where.method} ${where.endpoint}`;
  const details = { method: where.method, endpoint: where.endpoint, attempt: where.attempt };
  if (isTimeout(err)) {
    return new RunPodUnavailableError(`${base} timed out after ${where.timeoutMs} ms`, "timeout", { details, cause: err });
  }
  const code = networkCode(err);
  return new RunPodUnavailableError(`${base} failed: network error (${code})`, "network", { details: { ...details, code }, cause: err });
}

// Duck-typed, not `instanceof Error`: fetch's errors (undici, DOMException) may come from another realm.
function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isTimeout(err: unknown): boolean {
  const name = field(err, "name");
  return name === "TimeoutError" || name === "AbortError";
}

function networkCode(err: unknown): string {
  const code = field(field(err, "cause"), "code") ?? field(err, "code") ?? field(err, "name");
  return typeof code === "string" ? code : "unknown";
}
