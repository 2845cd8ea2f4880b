import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * RunPod's published REST v2 spec, read from the shared folder next to the repo (never copied
 * into it), and the small subset of OpenAPI 3.1 types the validator walks.
 */

const repoRoot = path.resolve(__dirname, "..", "..", "..");

/** `<repo>/../shared/runpod/openapi-v2.json` */
export const SPEC_PATH = path.resolve(repoRoot, "..", "shared", "runpod", "openapi-v2.json");

/** false when the spec file is absent; suites then `describe.skip` with {@link SPEC_SKIP_REASON}. */
export const specAvailable: boolean = existsSync(SPEC_PATH);

export const SPEC_SKIP_REASON = `RunPod OpenAPI v2 spec not found at ${SPEC_PATH}: contract spec validation skipped`;

export type JsonSchema = boolean | { [keyword: string]: unknown };

export interface Reference {
  $ref: string;
}

export interface ParameterObject {
  name: string;
  in: "query" | "header" | "path" | "cookie";
  required?: boolean;
  style?: string;
  explode?: boolean;
  schema?: JsonSchema;
}

export interface ExampleObject {
  summary?: string;
  value?: unknown;
}

export interface MediaTypeObject {
  schema?: JsonSchema;
  example?: unknown;
  examples?: Record<string, ExampleObject | Reference>;
}

export interface HeaderObject {
  required?: boolean;
  schema?: JsonSchema;
}

export interface ResponseObject {
  description?: string;
  headers?: Record<string, HeaderObject | Reference>;
  content?: Record<string, MediaTypeObject>;
}

export interface RequestBodyObject {
  required?: boolean;
  content: Record<string, MediaTypeObject>;
}

export type SecurityRequirement = Record<string, string[]>;

export interface OperationObject {
  operationId?: string;
  parameters?: (ParameterObject | Reference)[];
  requestBody?: RequestBodyObject | Reference;
  responses: Record<string, ResponseObject | Reference>;
  security?: SecurityRequirement[];
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type PathItemObject = { parameters?: (ParameterObject | Reference)[] } & Partial<
  Record<HttpMethod, OperationObject>
>;

export interface SecuritySchemeObject {
  type: string;
  scheme?: string;
}

export interface OpenApiDocument {
  openapi: string;
  jsonSchemaDialect?: string;
  paths: Record<string, PathItemObject>;
  security?: SecurityRequirement[];
  components?: {
    schemas?: Record<string, JsonSchema>;
    responses?: Record<string, ResponseObject | Reference>;
    parameters?: Record<string, ParameterObject | Reference>;
    headers?: Record<string, HeaderObject | Reference>;
    requestBodies?: Record<string, RequestBodyObject | Reference>;
    securitySchemes?: Record<string, SecuritySchemeObject>;
  };
}

let cached: OpenApiDocument | undefined;

/** The parsed spec, read once per process. Throws (with the path) when it is absent. */
export function loadSpec(): OpenApiDocument {
  if (cached) return cached;
  if (!specAvailable) throw new Error(SPEC_SKIP_REASON);
  const doc = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as OpenApiDocument;
  if (!doc.openapi?.startsWith("3.1"))
    throw new Error(`${SPEC_PATH}: expected OpenAPI 3.1, found ${String(doc.openapi)}`);
  cached = doc;
  return doc;
}

export function isReference(value: unknown): value is Reference {
  return typeof value === "object" && value !== null && typeof (value as { $ref?: unknown }).$ref === "string";
}

/** Follows local `#/...` references (chains included) inside the document. */
export function deref<T extends object>(doc: OpenApiDocument, value: T | Reference): T {
  let current: unknown = value;
  for (let hops = 0; isReference(current); hops++) {
    const ref = current.$ref;
    if (hops > 20 || !ref.startsWith("#/")) throw new Error(`cannot resolve $ref ${ref}`);
    let node: unknown = doc;
    for (const raw of ref.slice(2).split("/")) {
      const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
    if (node === undefined) throw new Error(`$ref ${ref} points at nothing`);
    current = node;
  }
  return current as T;
}
