import { AppError } from "../errors/app-error";
import type { Logger } from "../logging/logger";
import { classifyFetchFailure, classifyHttpError } from "./classify";
import { RunPodUnavailableError } from "./errors";
import { parseRetryAfter, retryDelayMs } from "./backoff";

export type HttpMethod = "GET" | "POST" | "DELETE";

/**
 * Who goes first when the account's rate budget is short (rate-budget-state.ts): `urgent` for what
 * stops billing (DELETE: a termination), which may use every call left and has a share of each window
 * to itself; `high` for the monitor's listing and pod reads that find pods to delete, which may use all
 * but the terminations' share; `normal` for the rest (creates, catalog, billing, logs: a create that
 * waits costs nothing), which leaves the whole reserve alone and is spaced. So whenever a DELETE must
 * wait, no other call could start either: it never waits behind a listing, a billing read or a create.
 */
export type CallPriority = "urgent" | "high" | "normal";

/** What RunPod said about its quota in one answer (RateLimit, RateLimit-Policy, Retry-After). */
export interface QuotaAnswer {
  status: number;
  rateLimit: string | null;
  policy: string | null;
  retryAfterMs?: number;
}

/**
 * The RunPod account's rate budget, shared by every process of trainpod that uses the account
 * (RedisRateBudget in rate-budget.ts); acquire before each attempt, observe every answer.
 */
export interface CallBudget {
  acquire(priority: CallPriority, signal?: AbortSignal): Promise<void>;
  observe(answer: QuotaAnswer): Promise<void>;
}

/** No budget: calls go out at once (unit tests, one-off tools). */
export const unlimitedBudget: CallBudget = { acquire: async () => undefined, observe: async () => undefined };

/** What the `onCall` hook sees once per HTTP attempt (e.g. for a Prometheus histogram). */
export interface RunPodCallInfo {
  /** endpoint template, e.g. `/pods/{podId}` */
  endpoint: string;
  method: HttpMethod;
  /** the HTTP status, or what happened instead of one */
  status: number | "timeout" | "network";
  durationMs: number;
  /** from 1 */
  attempt: number;
}

export interface HttpRequest {
  method: HttpMethod;
  endpoint: string;
  /** the real path, ids encoded */
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  /** may it be sent again after a 5xx, a timeout or a dropped connection? */
  retryAmbiguous: boolean;
  /** default normal */
  priority?: CallPriority;
  /** an extra Accept (text/event-stream for logs) */
  accept?: string;
  /** more request headers (Last-Event-ID) */
  headers?: Record<string, string>;
}

export interface HttpAnswer {
  status: number;
  bodyText: string;
}

/** A 2xx whose body is left unread (a log stream). */
export interface HttpStream {
  status: number;
  body: ReadableStream<Uint8Array> | null;
}

export interface HttpSettings {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  budget: CallBudget;
  logger: Logger | undefined;
  onCall: ((info: RunPodCallInfo) => void) | undefined;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** wall clock (Retry-After dates) */
  nowMs: () => number;
}

/** Sends one logical request: rate limit, attempt, classify, back off, again. */
export class RunPodHttp {
  constructor(private readonly s: HttpSettings) {}

  async send(req: HttpRequest): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt += 1) {
      let failure: AppError;
      try {
        return await this.attemptOnce(req, attempt);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        failure = err;
      }
      const delay = retryDelayMs({ ...this.s, error: failure, attempt, retryAmbiguous: req.retryAmbiguous });
      if (delay === null) throw failure;
      this.s.logger?.debug("runpod retry", {
        endpoint: req.endpoint,
        method: req.method,
        attempt,
        code: failure.code,
        delayMs: delay,
      });
      await this.s.sleep(delay);
    }
  }

  /** Opens a stream (GET logs): rate budget, one attempt, classify; the caller reads and cancels the body. */
  async open(req: HttpRequest, signal: AbortSignal): Promise<HttpStream> {
    await this.waitForBudget(req, signal);
    const { response } = await this.exchange(req, 1, signal, false);
    return { status: response.status, body: response.body };
  }

  /**
   * One HTTP exchange. Resolves on 2xx; throws a typed RunPod error otherwise. The wait for the
   * account's budget comes first and is not bounded by the attempt's timeout, which starts after it:
   * with a tight quota a create may wait minutes, and that wait is the budget working, not a failure.
   */
  private async attemptOnce(req: HttpRequest, attempt: number): Promise<HttpAnswer> {
    await this.waitForBudget(req);
    const { response, bodyText } = await this.exchange(req, attempt, AbortSignal.timeout(this.s.timeoutMs), true);
    return { status: response.status, bodyText: bodyText ?? "" };
  }

  /** The budget's wait; a budget that cannot answer (Redis down) is RunPod unavailable to us: retryable. */
  private async waitForBudget(req: HttpRequest, signal?: AbortSignal): Promise<void> {
    try {
      await this.s.budget.acquire(req.priority ?? "normal", signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new RunPodUnavailableError(
        `RunPod ${req.method} ${req.endpoint}: the account's rate budget could not be read (${err instanceof Error ? err.message : String(err)})`,
        "network",
        {
          details: { method: req.method, endpoint: req.endpoint },
          cause: err,
        },
      );
    }
  }

  private async exchange(
    req: HttpRequest,
    attempt: number,
    signal: AbortSignal,
    readBody: boolean,
  ): Promise<{ response: Response; bodyText?: string }> {
    const started = performance.now();
    let response: Response;
    let bodyText: string | undefined;
    try {
      response = await this.s.fetch(this.url(req), this.init(req, signal));
      if (readBody || response.status < 200 || response.status >= 300) bodyText = await response.text();
    } catch (err) {
      const failure = classifyFetchFailure(err, {
        method: req.method,
        endpoint: req.endpoint,
        attempt,
        timeoutMs: this.s.timeoutMs,
      });
      this.report(req, failure.reason === "timeout" ? "timeout" : "network", started, attempt);
      throw failure;
    }
    const { status } = response;
    const retryAfter = response.headers.get("retry-after");
    const retryAfterMs = status === 429 ? parseRetryAfter(retryAfter, this.s.nowMs()) : undefined;
    const observed = this.s.budget
      .observe({
        status,
        rateLimit: response.headers.get("ratelimit"),
        policy: response.headers.get("ratelimit-policy"),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      })
      .catch((err: unknown) =>
        this.s.logger?.warn("runpod rate budget could not record an answer", {
          error: err instanceof Error ? err.message : String(err),
        }),
      );
    // a 429's pause must be in the budget before anyone's next call; any other answer is not held back by the
    // budget's Redis write (a slow Redis delayed a DELETE's answer, and the pod's recorded end, by a second)
    if (status === 429) await observed;
    this.report(req, status, started, attempt);
    if (status >= 200 && status < 300) return { response, bodyText };
    const { method, endpoint } = req;
    throw classifyHttpError({
      method,
      endpoint,
      status,
      bodyText: bodyText ?? "",
      retryAfter,
      attempt,
      apiKey: this.s.apiKey,
      nowMs: this.s.nowMs(),
    });
  }

  private url(req: HttpRequest): string {
    const query = req.query?.toString();
    return `${this.s.baseUrl}${req.path}${query ? `?${query}` : ""}`;
  }

  private init(req: HttpRequest, signal: AbortSignal): RequestInit {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.s.apiKey}`,
      Accept: req.accept ?? "application/json, application/problem+json",
    };
    if (req.body !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(headers, req.headers);
    return {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal,
    };
  }

  private report(req: HttpRequest, status: RunPodCallInfo["status"], started: number, attempt: number): void {
    const info: RunPodCallInfo = {
      endpoint: req.endpoint,
      method: req.method,
      status,
      durationMs: Math.round(performance.now() - started),
      attempt,
    };
    this.s.logger?.debug("runpod call", { ...info });
    try {
      this.s.onCall?.(info);
    } catch (err) {
      this.s.logger?.warn("runpod onCall hook threw", { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
