import { redactText } from "../logging/redact";
import {
  BadRequestError,
  BadResponseError,
  ConflictError,
  ContractViolationError,
  ForbiddenError,
  InsufficientBalanceError,
  NoCapacityError,
  NotFoundError,
  RateLimitedError,
  RunPodUnavailableError,
  UnauthorizedError,
  type RunPodError,
} from "./errors";
import { parseRetryAfter } from "./backoff";

const MAX_MESSAGE_CHARS = 500;
const MAX_VIOLATIONS = 20;

/** What an RFC 9457 problem (`application/problem+json`: title, status, detail, errors[]) says. */
export interface Problem {
  /** `detail`, else `title`, else the raw text (cut) */
  message: string;
  /** `errors`: one line per violation (422) */
  errors: string[];
}

/** RunPod's error body: RFC 9457 `{title, status, detail, errors}`; anything else (a proxy's HTML) as text. */
export function readProblem(bodyText: string): Problem {
  const trimmed = bodyText.trim();
  if (trimmed === "") return { message: "", errors: [] };
  try {
    const body: unknown = JSON.parse(trimmed);
    if (typeof body === "object" && body !== null) {
      const record = body as Record<string, unknown>;
      const text = [record.detail, record.title].find((v): v is string => typeof v === "string" && v !== "");
      const errors = Array.isArray(record.errors)
        ? record.errors.filter((e): e is string => typeof e === "string")
        : [];
      if (text !== undefined || errors.length > 0) {
        return {
          message: (text ?? errors[0] ?? "").slice(0, MAX_MESSAGE_CHARS),
          errors: errors.slice(0, MAX_VIOLATIONS).map((e) => e.slice(0, MAX_MESSAGE_CHARS)),
        };
      }
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: trimmed.slice(0, MAX_MESSAGE_CHARS), errors: [] };
}

/** RunPod's error text (`detail`), for callers that want only that. */
export function extractRunPodMessage(bodyText: string): string {
  return readProblem(bodyText).message;
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

/**
 * Turns a non-2xx answer into the typed error that says what to do about it (createPod's table in
 * the spec): 400 on create = this candidate cannot be placed; 402 stop; 403 skip; 422 never retry.
 */
export function classifyHttpError(call: FailedCall): RunPodError {
  const problem = readProblem(call.bodyText);
  const runpodMessage = scrubSecret(problem.message, call.apiKey);
  const violations = problem.errors.map((e) => scrubSecret(e, call.apiKey));
  const where = `RunPod ${call.method} ${call.endpoint} answered ${call.status}`;
  const message = runpodMessage === "" ? where : `${where}: ${runpodMessage}`;
  const details = {
    method: call.method,
    endpoint: call.endpoint,
    status: call.status,
    attempt: call.attempt,
    runpodMessage,
    ...(violations.length > 0 ? { errors: violations } : {}),
  };
  const { status } = call;
  const isCreate = call.method === "POST" && call.endpoint === "/pods";
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(call.retryAfter, call.nowMs);
    return new RateLimitedError(message, retryAfterMs, { details: { ...details, retryAfterMs } });
  }
  if (status === 400 && isCreate) return new NoCapacityError(message, { details });
  if (status === 401) return new UnauthorizedError(message, { details });
  if (status === 402) return new InsufficientBalanceError(message, { details });
  if (status === 403) return new ForbiddenError(message, { details });
  if (status === 404) return new NotFoundError(message, { details });
  if (status === 409) return new ConflictError(message, { details });
  if (status === 422)
    return new ContractViolationError(
      violations.length > 0 ? `${message} (${violations.join("; ")})` : message,
      violations,
      { details },
    );
  if (status >= 400 && status < 500) return new BadRequestError(message, { details });
  if (status >= 500) return new RunPodUnavailableError(message, "server", { details });
  return new BadResponseError(`${message} (unexpected status)`, { details });
}

/** A fetch that threw: AbortSignal.timeout fired, or the connection failed or dropped. */
export function classifyFetchFailure(
  err: unknown,
  where: { method: string; endpoint: string; attempt: number; timeoutMs: number },
): RunPodUnavailableError {
  const base = `RunPod ${where.method} ${where.endpoint}`;
  const details = { method: where.method, endpoint: where.endpoint, attempt: where.attempt };
  if (isTimeout(err)) {
    return new RunPodUnavailableError(`${base} timed out after ${where.timeoutMs} ms`, "timeout", {
      details,
      cause: err,
    });
  }
  const code = networkCode(err);
  return new RunPodUnavailableError(`${base} failed: network error (${code})`, "network", {
    details: { ...details, code },
    cause: err,
  });
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
