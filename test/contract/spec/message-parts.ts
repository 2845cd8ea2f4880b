import { deref, type JsonSchema, type MediaTypeObject, type OpenApiDocument } from "./openapi-document";
import type { OperationMatcher } from "./operation-match";
import type { SchemaCompiler } from "./schema-compiler";

/** What the request and response checks share: the spec, its compiled schemas and its routes. */
export interface SpecContext {
  doc: OpenApiDocument;
  compiler: SchemaCompiler;
  matcher: OperationMatcher;
}

export type HeaderInput = Headers | Record<string, string> | [string, string][];

/** An HTTP request as sent: `url` absolute or path + query; `body` the raw text, if any. */
export interface HttpRequestMessage {
  method: string;
  url: string;
  headers?: HeaderInput;
  body?: string | null;
}

/** An HTTP response to `method url`; `body` the raw text (for SSE: what arrived). */
export interface HttpResponseMessage {
  method: string;
  url: string;
  status: number;
  headers?: HeaderInput;
  body?: string | null;
}

export function parseUrl(url: string): URL {
  return new URL(url, "http://relative.invalid");
}

/** `type/subtype` of a Content-Type header, lower-cased, parameters dropped. */
export function mediaTypeOf(contentType: string | null): string | undefined {
  const mt = contentType?.split(";")[0]?.trim().toLowerCase();
  return mt === undefined || mt === "" ? undefined : mt;
}

export function isJsonMediaType(mt: string): boolean {
  return mt === "application/json" || mt.endsWith("+json");
}

/** The declared media type entry for `mt`: exact key first, then `type/*`, then `* /*`. */
export function findMedia(content: Record<string, MediaTypeObject>, mt: string): [string, MediaTypeObject] | undefined {
  for (const key of [mt, `${mt.split("/")[0] ?? ""}/*`, "*/*"]) {
    const media = content[key];
    if (media !== undefined) return [key, media];
  }
  return undefined;
}

/** Whether a parameter schema is an array (following `$ref`s and single-entry `allOf`s). */
export function isArraySchema(doc: OpenApiDocument, schema: JsonSchema | undefined): boolean {
  let node: unknown = schema;
  for (let hops = 0; hops < 20 && typeof node === "object" && node !== null; hops++) {
    const s = node as { type?: unknown; $ref?: unknown; allOf?: unknown };
    if (s.type === "array" || (Array.isArray(s.type) && s.type.includes("array"))) return true;
    if (typeof s.$ref === "string") node = deref(doc, { $ref: s.$ref });
    else if (Array.isArray(s.allOf) && s.allOf.length === 1) node = s.allOf[0];
    else return false;
  }
  return false;
}

/** Violation for a method + path the spec does not have. */
export function unknownOperation(ctx: SpecContext, method: string, pathname: string): string {
  const allowed = ctx.matcher.allowedMethods(pathname);
  const m = method.toUpperCase();
  return allowed.length > 0
    ? `${m} ${pathname}: the spec has no ${m} for this path (it declares ${allowed.join(", ")})`
    : `${m} ${pathname}: no path in the spec matches`;
}

/** Parses a JSON body; a violation string instead when it is not JSON. */
export function parseJson(
  where: string,
  text: string,
): { ok: true; value: unknown } | { ok: false; violation: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, violation: `${where} is not valid JSON (${(err as Error).message}): ${text.slice(0, 120)}` };
  }
}
