import { AppError } from "../errors/app-error";
import type { Logger } from "../logging/logger";
import { classifyFetchFailure, classifyHttpError } from "./classify";
import type { TokenBucket } from "./rate-limiter";
import { retryDelayMs } from "./retry";

export type HttpMethod = "GET" | "POST" | "DELETE";

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
}

export interface HttpAnswer {
  status: number;
  bodyText: string;
}

export interface HttpSettings {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  bucket: TokenBucket;
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
      this.s.logger?.debug("runpod retry", { endpoint: req.endpoint, method: req.method, attempt, code: failure.code, delayMs: delay });
      await this.s.sleep(delay);
    }
  }

  /** One HTTP exchange. Resolves on 2xx; throws a typed RunPod error otherwise. */
  private async attemptOnce(req: HttpRequest, attempt: number): Promise<HttpAnswer> {
    await this.s.bucket.acquire();
    const started = performance.now();
    let status: number;
    let bodyText: string;
    let retryAfter: string | null;
    try {
      const response = await this.s.fetch(this.url(req), this.init(req));
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      bodyText = await response.text();
    } catch (err) {
      const failure = classifyFetchFailure(err, { method: req.method, endpoint: req.endpoint, attempt, timeoutMs: this.s.timeoutMs });
      this.report(req, failure.reason === "timeout" ? "timeout" : "network", started, attempt);
      throw failure;
    }
    this.report(req, status, started, attempt);
    if (status >= 200 && status < 300) return { status, bodyText };
    const { method, endpoint } = req;
    throw classifyHttpError({ method, endpoint, status, bodyText, retryAfter, attempt, apiKey: this.s.apiKey, nowMs: this.s.nowMs() });
  }

  private url(req: HttpRequest): string {
    const query = req.query?.toString();
    return `${this.s.baseUrl}${req.path}${query ? `?${query}` : ""}`;
  }

  private init(req: HttpRequest): RequestInit {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.s.apiKey}`, Accept: "application/json" };
    if (req.body !== undefined) headers["Content-Type"] = "application/json";
    return {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(this.s.timeoutMs),
    };
  }

  private report(req: HttpRequest, status: RunPodCallInfo["status"], started: number, attempt: number): void {
    const info: RunPodCallInfo = { endpoint: req.endpoint, method: req.method, status, durationMs: Math.round(performance.now() - started), attempt };
    this.s.logger?.debug("runpod call", { ...info });
    try {
      this.s.onCall?.(info);
    } catch (err) {
      this.s.logger?.warn("runpod onCall hook threw", { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
