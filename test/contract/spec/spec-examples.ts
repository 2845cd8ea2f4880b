import {
  deref,
  HTTP_METHODS,
  type ExampleObject,
  type HttpMethod,
  type OpenApiDocument,
  type RequestBodyObject,
  type ResponseObject,
} from "./openapi-document";

/** One `examples` entry of a request body or response in the spec, as an HTTP message to validate. */
export interface SpecExample {
  label: string;
  kind: "request" | "response";
  method: HttpMethod;
  /** the path template with every parameter filled in */
  url: string;
  /** the response key: "200", "default", ...; undefined for request bodies */
  responseKey?: string;
  contentType: string;
  value: unknown;
}

/** Fills `{param}` segments so the path matches its own template. */
export function concretePath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => `${name}_x1`);
}

/** A status a `default` response can stand for (none of the spec's operations lists 599). */
export function statusFor(responseKey: string): number {
  return responseKey === "default" ? 599 : Number(responseKey.replace(/XX$/, "00"));
}

/** The raw HTTP body for an example: event streams are text already, the rest is JSON. */
export function bodyFor(example: SpecExample): string {
  return example.contentType === "text/event-stream" && typeof example.value === "string"
    ? example.value
    : JSON.stringify(example.value);
}

export function collectExamples(doc: OpenApiDocument): SpecExample[] {
  const out: SpecExample[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const base = { method, url: concretePath(template) };
      const name = op.operationId ?? `${method} ${template}`;
      if (op.requestBody !== undefined) {
        for (const [contentType, media] of Object.entries(deref<RequestBodyObject>(doc, op.requestBody).content)) {
          for (const [key, ex] of Object.entries(media.examples ?? {})) {
            const value = deref<ExampleObject>(doc, ex).value;
            out.push({ ...base, label: `${name} request ${key}`, kind: "request", contentType, value });
          }
        }
      }
      for (const [responseKey, ref] of Object.entries(op.responses)) {
        for (const [contentType, media] of Object.entries(deref<ResponseObject>(doc, ref).content ?? {})) {
          for (const [key, ex] of Object.entries(media.examples ?? {})) {
            const value = deref<ExampleObject>(doc, ex).value;
            out.push({
              ...base,
              label: `${name} ${responseKey} ${key}`,
              kind: "response",
              responseKey,
              contentType,
              value,
            });
          }
        }
      }
    }
  }
  return out;
}

/** The first example of `operationId`'s request body, or of its `responseKey` response. */
export function exampleOf(examples: SpecExample[], operationId: string, responseKey?: string): SpecExample {
  const found = examples.find(
    (e) =>
      e.label.startsWith(`${operationId} `) &&
      (responseKey === undefined ? e.kind === "request" : e.responseKey === responseKey),
  );
  if (found === undefined) throw new Error(`the spec has no example for ${operationId} ${responseKey ?? "request"}`);
  return found;
}

/** A deep copy, for mutating an example without touching the loaded spec. */
export function copyOf<T>(value: T): T {
  return structuredClone(value);
}
