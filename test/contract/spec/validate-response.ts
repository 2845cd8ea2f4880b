import { deref, type HeaderObject, type Reference, type ResponseObject } from "./openapi-document";
import type { OperationMatch } from "./operation-match";
import {
  findMedia,
  isJsonMediaType,
  mediaTypeOf,
  parseJson,
  parseUrl,
  unknownOperation,
  type HttpResponseMessage,
  type SpecContext,
} from "./message-parts";
import { STRUCTURED_HEADER_PATTERNS } from "./rate-limit-headers";
import { checkSseEvent, parseSse, SSE_LOG_PAYLOAD_SCHEMA } from "./sse-events";

export interface ResponseCheckOptions {
  /** the body is what arrived before the caller closed a stream: a trailing half event is ignored */
  partialStream?: boolean;
}

/** The response object for `status`: exact code, then `2XX`-style range, then `default`. */
export function responseFor(
  match: OperationMatch,
  status: number,
): { key: string; ref: ResponseObject | Reference } | undefined {
  const code = String(status);
  const responses = match.operation.responses;
  for (const key of [code, `${code[0] ?? ""}XX`, "default"]) {
    const ref = responses[key];
    if (ref !== undefined) return { key, ref };
  }
  return undefined;
}

function checkHeaders(
  ctx: SpecContext,
  where: string,
  response: ResponseObject,
  headers: Headers,
  out: string[],
): void {
  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    const header = deref<HeaderObject>(ctx.doc, declared);
    const value = headers.get(name);
    if (value === null) {
      if (header.required) out.push(`${where} header ${name} is required but missing`);
      continue;
    }
    if (header.schema !== undefined)
      out.push(...ctx.compiler.checkCoerced(`${where} header ${name}`, header.schema, value));
    const pattern = STRUCTURED_HEADER_PATTERNS[name.toLowerCase()];
    if (pattern !== undefined && !pattern.test(value)) {
      out.push(`${where} header ${name} is not a structured-field list shaped like the spec's examples: ${value}`);
    }
  }
}

function checkEventStream(ctx: SpecContext, where: string, body: string, partial: boolean, out: string[]): void {
  for (const event of parseSse(body, partial)) {
    const { violations, payload } = checkSseEvent(event);
    out.push(...violations.map((v) => `${where} ${v}`));
    if (payload !== undefined)
      out.push(...ctx.compiler.check(`${where} SSE event ${event.index} data`, SSE_LOG_PAYLOAD_SCHEMA, payload));
  }
}

function checkBody(
  ctx: SpecContext,
  where: string,
  response: ResponseObject,
  msg: HttpResponseMessage,
  headers: Headers,
  partial: boolean,
  out: string[],
): void {
  const body = msg.body ?? "";
  const content = response.content ?? {};
  const declared = Object.keys(content);
  if (msg.status === 204 || declared.length === 0) {
    if (body !== "") out.push(`${where} must have no body (the spec declares no content), got ${body.length} chars`);
    return;
  }
  const mt = mediaTypeOf(headers.get("content-type"));
  if (mt === undefined) {
    out.push(`${where} has no Content-Type; the spec declares ${declared.join(", ")}`);
    return;
  }
  const found = findMedia(content, mt);
  if (found === undefined) {
    out.push(`${where} Content-Type ${mt} is not declared; the spec declares ${declared.join(", ")}`);
    return;
  }
  const [, media] = found;
  if (mt === "text/event-stream") {
    checkEventStream(ctx, where, body, partial, out);
    return;
  }
  if (!isJsonMediaType(mt)) {
    if (media.schema !== undefined) out.push(...ctx.compiler.check(`${where} body`, media.schema, body));
    return;
  }
  if (body === "") {
    out.push(`${where} body is empty; the spec declares ${mt}`);
    return;
  }
  const parsed = parseJson(`${where} body`, body);
  if (!parsed.ok) out.push(parsed.violation);
  else if (media.schema !== undefined) out.push(...ctx.compiler.check(`${where} body`, media.schema, parsed.value));
}

/** Every way the response departs from the spec for its request's operation; [] when it conforms. */
export function checkResponse(
  ctx: SpecContext,
  msg: HttpResponseMessage,
  options: ResponseCheckOptions = {},
): string[] {
  const url = parseUrl(msg.url);
  const match = ctx.matcher.match(msg.method, url.pathname);
  if (match === undefined) return [unknownOperation(ctx, msg.method, url.pathname)];
  const declared = responseFor(match, msg.status);
  if (declared === undefined) {
    const listed = Object.keys(match.operation.responses).join(", ");
    return [`${match.operationId} ${msg.status}: status not declared and no default (declared: ${listed})`];
  }
  const { key, ref } = declared;
  const response = deref<ResponseObject>(ctx.doc, ref);
  const where =
    key === String(msg.status)
      ? `${match.operationId} ${key} response`
      : `${match.operationId} ${msg.status} response (as '${key}')`;
  const headers = new Headers(msg.headers ?? {});
  const out: string[] = [];
  checkHeaders(ctx, where, response, headers, out);
  checkBody(ctx, where, response, msg, headers, options.partialStream === true, out);
  return out;
}
