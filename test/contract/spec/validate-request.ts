import { deref, type ParameterObject, type RequestBodyObject, type SecurityRequirement } from "./openapi-document";
import type { OperationMatch } from "./operation-match";
import {
  findMedia,
  isArraySchema,
  isJsonMediaType,
  mediaTypeOf,
  parseJson,
  parseUrl,
  unknownOperation,
  type HttpRequestMessage,
  type SpecContext,
} from "./message-parts";

export interface RequestCheckOptions {
  /** check the operation's security requirement (Authorization: Bearer ...); default true */
  security?: boolean;
}

/** Query values as the parameter's style says: form + explode=false arrays are one comma-separated value. */
function queryValue(ctx: SpecContext, p: ParameterObject, raw: string[], out: string[]): string | string[] {
  const where = `query parameter '${p.name}'`;
  if (isArraySchema(ctx.doc, p.schema)) {
    const explode = p.explode ?? (p.style === undefined || p.style === "form");
    if (explode) return raw;
    if (raw.length > 1)
      out.push(`${where} sent ${raw.length} times; style=form explode=false wants one comma-separated value`);
    return (raw[0] ?? "").split(",");
  }
  if (raw.length > 1) out.push(`${where} sent ${raw.length} times; its schema is not an array`);
  return raw[0] ?? "";
}

function checkParameters(ctx: SpecContext, match: OperationMatch, url: URL, headers: Headers, out: string[]): void {
  const declaredQuery = new Set<string>();
  for (const p of match.parameters) {
    const where = `${p.in} parameter '${p.name}'`;
    let value: string | string[] | undefined;
    if (p.in === "path") value = match.pathParams[p.name];
    else if (p.in === "header") value = headers.get(p.name) ?? undefined;
    else if (p.in === "query") {
      declaredQuery.add(p.name);
      const raw = url.searchParams.getAll(p.name);
      value = raw.length === 0 ? undefined : queryValue(ctx, p, raw, out);
    } else continue; // cookies are not checked
    if (value === undefined) {
      if (p.required) out.push(`${where} is required by ${match.operationId} but missing`);
      continue;
    }
    if (p.schema !== undefined) out.push(...ctx.compiler.checkCoerced(where, p.schema, value));
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (!declaredQuery.has(name)) out.push(`query parameter '${name}' is not declared by ${match.operationId}`);
  }
}

function checkSecurity(ctx: SpecContext, match: OperationMatch, headers: Headers, out: string[]): void {
  const requirements: SecurityRequirement[] = match.operation.security ?? ctx.doc.security ?? [];
  if (requirements.length === 0) return;
  const satisfied = (name: string): boolean => {
    const scheme = ctx.doc.components?.securitySchemes?.[name];
    if (scheme?.type === "http" && scheme.scheme?.toLowerCase() === "bearer") {
      return /^Bearer\s+\S+/i.test(headers.get("authorization") ?? "");
    }
    return true; // other scheme types are not used by this spec
  };
  if (!requirements.some((r) => Object.keys(r).every(satisfied))) {
    out.push(
      `${match.operationId} requires ${requirements.map((r) => Object.keys(r).join("+")).join(" or ")}: no Authorization: Bearer header`,
    );
  }
}

function checkBody(
  ctx: SpecContext,
  match: OperationMatch,
  msg: HttpRequestMessage,
  headers: Headers,
  out: string[],
): void {
  const body = msg.body ?? "";
  const rb =
    match.operation.requestBody === undefined
      ? undefined
      : deref<RequestBodyObject>(ctx.doc, match.operation.requestBody);
  if (rb === undefined) {
    if (body !== "") out.push(`${match.operationId} takes no request body, but one was sent`);
    return;
  }
  if (body === "") {
    if (rb.required) out.push(`${match.operationId} requires a request body (${Object.keys(rb.content).join(", ")})`);
    return;
  }
  const mt = mediaTypeOf(headers.get("content-type"));
  if (mt === undefined) {
    out.push(`request body sent without a Content-Type (spec: ${Object.keys(rb.content).join(", ")})`);
    return;
  }
  const found = findMedia(rb.content, mt);
  if (found === undefined) {
    out.push(`request Content-Type ${mt} is not one the spec accepts (${Object.keys(rb.content).join(", ")})`);
    return;
  }
  const [, media] = found;
  if (!isJsonMediaType(mt) || media.schema === undefined) return;
  const parsed = parseJson("request body", body);
  if (!parsed.ok) out.push(parsed.violation);
  else out.push(...ctx.compiler.check("request body", media.schema, parsed.value));
}

/** Every way the request departs from the spec; [] when it conforms. */
export function checkRequest(ctx: SpecContext, msg: HttpRequestMessage, options: RequestCheckOptions = {}): string[] {
  const url = parseUrl(msg.url);
  const match = ctx.matcher.match(msg.method, url.pathname);
  if (match === undefined) return [unknownOperation(ctx, msg.method, url.pathname)];
  const headers = new Headers(msg.headers ?? {});
  const out: string[] = [];
  checkParameters(ctx, match, url, headers, out);
  if (options.security !== false) checkSecurity(ctx, match, headers, out);
  checkBody(ctx, match, msg, headers, out);
  return out;
}
