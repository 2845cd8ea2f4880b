import { recordingFetch, type ContractViolation } from "./spec/contract-recorder";
import { describeViolations, isDocumentedSpecInconsistency } from "./validated-messages";

/**
 * Raw HTTP calls to the simulator's /v2 API for the conformance suite, each through its own
 * `recordingFetch`, so the request and the response are validated against openapi-v2.json. A
 * call throws (failing its test) when:
 * - the response breaks the spec, whatever the request was;
 * - a request meant to be valid breaks it (the documented Last-Event-ID inconsistency aside);
 * - a request meant to be invalid (`invalid: /what the validator must say/`) is NOT flagged that
 *   way: the suite's invalid requests are invalid by the spec's own rules, not just by the sim's.
 */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** the parsed body; undefined when empty or not JSON */
  json: unknown;
}

export interface RawOptions {
  /** an object is sent as JSON; a string as is (with a JSON content type) */
  body?: unknown;
  headers?: Record<string, string>;
  /** the bearer key; null sends no Authorization header; default the account key */
  key?: string | null;
  /** the request is deliberately invalid: the validator must flag it with a violation matching this */
  invalid?: RegExp;
}

export interface StreamOptions extends RawOptions {
  /** read the event stream until this holds for what arrived (then cancel it), or until it ends */
  until: (text: string) => boolean;
}

export class RawCaller {
  /** messages validated (a request and a response per answered call) */
  validated = 0;
  calls = 0;
  /** violations that were not expected: must stay empty (each one already failed its call) */
  readonly unexpected: ContractViolation[] = [];
  /**
   * 2xx and 429 answers missing RateLimit or RateLimit-Policy. The spec declares both headers
   * without `required`, but its 429 description says they "also accompany successful responses"
   * (and the client's rate budget reads them), so a renamed header must fail somewhere: here.
   */
  readonly missingQuotaHeaders: string[] = [];

  constructor(
    private readonly apiUrl: string,
    private readonly apiKey: string,
  ) {}

  async call(method: string, path: string, options: RawOptions = {}): Promise<RawAnswer> {
    return this.exchange(method, path, options, async (res) => res.text());
  }

  /** GET an SSE stream, read until `until` holds (or it ends), then cancel it. */
  async stream(path: string, options: StreamOptions): Promise<RawAnswer> {
    return this.exchange("GET", path, options, async (res) => {
      if (res.body === null) return "";
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let text = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return text;
        text += decoder.decode(chunk.value, { stream: true });
        if (options.until(text)) {
          await reader.cancel();
          return text;
        }
      }
    });
  }

  private async exchange(
    method: string,
    path: string,
    options: RawOptions,
    read: (res: Response) => Promise<string>,
  ): Promise<RawAnswer> {
    const { fetch: recorded, recorder } = recordingFetch(fetch);
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json, text/event-stream",
      ...options.headers,
    };
    const key = options.key === undefined ? this.apiKey : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    const res = await recorded(`${this.apiUrl}${path}`, { method, headers, body });
    const text = await read(res);
    await recorder.idle();
    this.calls += 1;
    this.validated += recorder.validated;
    const where = `${method} ${path} -> ${res.status}`;
    if (
      (res.ok || res.status === 429) &&
      (res.headers.get("ratelimit") === null || res.headers.get("ratelimit-policy") === null)
    )
      this.missingQuotaHeaders.push(where);
    const responseViolations = recorder.violations.filter((v) => v.kind === "response");
    const requestViolations = recorder.violations.filter((v) => v.kind === "request");
    const unexplainedRequestViolations = requestViolations.filter((v) => !isDocumentedSpecInconsistency(v));
    const problems: string[] = [];
    if (responseViolations.length > 0)
      problems.push(`the response breaks the spec:\n${describeViolations(responseViolations)}`);
    if (options.invalid === undefined && unexplainedRequestViolations.length > 0) {
      problems.push(
        `the request meant to be valid breaks the spec:\n${describeViolations(unexplainedRequestViolations)}`,
      );
    }
    const pattern = options.invalid;
    if (pattern !== undefined && !requestViolations.some((v) => pattern.test(v.violation))) {
      problems.push(
        `the request meant to be invalid was not flagged ${String(pattern)}; the validator said: ${describeViolations(requestViolations) || "nothing"}`,
      );
    }
    if (problems.length > 0) {
      this.unexpected.push(
        ...responseViolations,
        ...(options.invalid === undefined ? unexplainedRequestViolations : []),
      );
      throw new Error(`${where}: ${problems.join("\n")}`);
    }
    let json: unknown;
    try {
      json = text === "" ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }
}

/** `{pods: [...]}`, a Pod, a problem: the few fields the conformance tests read. */
export const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
