import { specValidator, type OpenApiValidator } from "./openapi-validator";
import { mediaTypeOf, parseUrl } from "./message-parts";

/**
 * Wraps a `fetch` so every request and response going through it is validated against the spec:
 *
 *   const recorder = new ContractRecorder();
 *   const client = new RunPodRestClient({ ..., fetch: recorder.wrap(fetch) });
 *   ... exercise the client ...
 *   await recorder.idle();                 // streams the caller closed are validated by now
 *   expect(recorder.violations).toEqual([]);
 *
 * The caller gets the inner fetch's Response untouched, except for `text/event-stream` bodies:
 * those are handed over through a pass-through stream (same status, headers, url, bytes) so what
 * arrived can be validated when the stream ends or the caller cancels it.
 */

export interface ContractViolation {
  kind: "request" | "response";
  method: string;
  url: string;
  /** the response status; undefined for request violations */
  status?: number;
  operationId?: string;
  violation: string;
}

export interface OperationCounts {
  requests: number;
  responses: number;
  violations: number;
}

export interface ContractRecorderOptions {
  validator?: OpenApiValidator;
  /** check the bearer-token security requirement on requests; default true */
  security?: boolean;
}

/** `byOperation` key for requests that match no spec operation */
export const UNMATCHED = "(unmatched)";

interface Exchange {
  method: string;
  url: string;
  operationId: string;
}

export class ContractRecorder {
  /** messages validated: one per request, one per response */
  validated = 0;
  readonly violations: ContractViolation[] = [];
  readonly byOperation: Record<string, OperationCounts> = {};
  /** things the recorder could not validate (stream request bodies, unreadable response bodies) */
  readonly notes: string[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: ContractRecorderOptions = {}) {}

  private get validator(): OpenApiValidator {
    return this.options.validator ?? specValidator();
  }

  /** A fetch with the same signature as `inner` that records every exchange. */
  wrap(inner: typeof fetch = globalThis.fetch): typeof fetch {
    const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const exchange = await this.recordRequest(input, init);
      const response = await inner(input, init);
      if (exchange === undefined) return response;
      if (mediaTypeOf(response.headers.get("content-type")) === "text/event-stream" && response.body !== null) {
        return this.tapStream(exchange, response);
      }
      let text: string;
      try {
        text = await response.clone().text();
      } catch (err) {
        this.notes.push(`${exchange.method} ${exchange.url}: response body unreadable (${(err as Error).message})`);
        return response;
      }
      this.recordResponse(exchange, response, text, false);
      return response;
    };
    return wrapped as typeof fetch;
  }

  /** Resolves once every tapped event stream has ended or been cancelled, and validated. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** One line per violation, for failure messages. */
  summary(): string {
    return this.violations
      .map((v) => `${v.kind} ${v.method} ${v.url}${v.status === undefined ? "" : ` -> ${v.status}`}: ${v.violation}`)
      .join("\n");
  }

  private counts(operationId: string): OperationCounts {
    this.byOperation[operationId] ??= { requests: 0, responses: 0, violations: 0 };
    return this.byOperation[operationId];
  }

  private async recordRequest(
    input: string | URL | Request,
    init: RequestInit | undefined,
  ): Promise<Exchange | undefined> {
    let request: Request;
    try {
      if (init?.body instanceof ReadableStream) throw new Error("the request body is a stream");
      // the same Request fetch would build (effective method, headers, Content-Type), on a copy of any body
      request = new Request(input instanceof Request ? input.clone() : input, init);
    } catch (err) {
      this.notes.push(
        `request to ${String(input instanceof Request ? input.url : input)} not validated: ${(err as Error).message}`,
      );
      return undefined;
    }
    const body = request.body === null ? null : await request.text();
    const url = request.url;
    const pathname = parseUrl(url).pathname;
    const operationId = this.validator.matchOperation(request.method, pathname)?.operationId ?? UNMATCHED;
    const exchange = { method: request.method, url, operationId };
    const found = this.validator.validateRequest(
      { method: request.method, url, headers: request.headers, body },
      { security: this.options.security },
    );
    this.validated++;
    this.counts(operationId).requests++;
    this.add(exchange, "request", undefined, found);
    return exchange;
  }

  private recordResponse(exchange: Exchange, response: Response, body: string, partialStream: boolean): void {
    const found = this.validator.validateResponse(
      { method: exchange.method, url: exchange.url, status: response.status, headers: response.headers, body },
      { partialStream },
    );
    this.validated++;
    this.counts(exchange.operationId).responses++;
    this.add(exchange, "response", response.status, found);
  }

  private add(exchange: Exchange, kind: ContractViolation["kind"], status: number | undefined, found: string[]): void {
    const operationId = exchange.operationId === UNMATCHED ? undefined : exchange.operationId;
    for (const violation of found)
      this.violations.push({ kind, method: exchange.method, url: exchange.url, status, operationId, violation });
    this.counts(exchange.operationId).violations += found.length;
  }

  /** Hands the caller a pass-through of the event stream, validating what arrived when it ends or is cancelled. */
  private tapStream(exchange: Exchange, response: Response): Response {
    const source = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let seen = "";
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    this.pending.add(done);
    let finished = false;
    const finish = (partial: boolean): void => {
      if (finished) return;
      finished = true;
      seen += decoder.decode();
      this.recordResponse(exchange, response, seen, partial);
      this.pending.delete(done);
      settle();
    };
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const chunk = await source.read();
          if (chunk.done) {
            finish(false);
            controller.close();
            return;
          }
          seen += decoder.decode(chunk.value, { stream: true });
          controller.enqueue(chunk.value);
        } catch (err) {
          finish(true);
          controller.error(err);
        }
      },
      async cancel(reason) {
        finish(true);
        await source.cancel(reason);
      },
    });
    const tapped = new Response(stream, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    Object.defineProperties(tapped, {
      url: { value: response.url },
      redirected: { value: response.redirected },
      type: { value: response.type },
    });
    return tapped;
  }
}

/** `recordingFetch(fetch)` = a new recorder and its wrapped fetch. */
export function recordingFetch(
  inner: typeof fetch = globalThis.fetch,
  options?: ContractRecorderOptions,
): { fetch: typeof fetch; recorder: ContractRecorder } {
  const recorder = new ContractRecorder(options);
  return { fetch: recorder.wrap(inner), recorder };
}
