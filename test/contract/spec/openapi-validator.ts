import { loadSpec, type OpenApiDocument } from "./openapi-document";
import type { HttpRequestMessage, HttpResponseMessage, SpecContext } from "./message-parts";
import { OperationMatcher, type OperationMatch } from "./operation-match";
import { SchemaCompiler } from "./schema-compiler";
import { checkRequest, type RequestCheckOptions } from "./validate-request";
import { checkResponse, type ResponseCheckOptions } from "./validate-response";

/**
 * Validates HTTP messages against RunPod's published REST v2 spec
 * (`<repo>/../shared/runpod/openapi-v2.json`, OpenAPI 3.1 / JSON Schema 2020-12).
 *
 *   if (!specAvailable) describe.skip(SPEC_SKIP_REASON, ...)
 *   validateRequest({ method: "POST", url: "/v2/pods", headers, body: JSON.stringify(input) }) // -> string[]
 *   validateResponse({ method: "GET", url, status: 200, headers, body: text })                 // -> string[]
 *
 * An empty array means the message conforms.
 */

export class OpenApiValidator {
  readonly compiler: SchemaCompiler;
  private readonly ctx: SpecContext;

  constructor(readonly doc: OpenApiDocument = loadSpec()) {
    this.compiler = new SchemaCompiler(doc);
    this.ctx = { doc, compiler: this.compiler, matcher: new OperationMatcher(doc) };
  }

  matchOperation(method: string, pathname: string): OperationMatch | undefined {
    return this.ctx.matcher.match(method, pathname);
  }

  validateRequest(msg: HttpRequestMessage, options?: RequestCheckOptions): string[] {
    return checkRequest(this.ctx, msg, options);
  }

  validateResponse(msg: HttpResponseMessage, options?: ResponseCheckOptions): string[] {
    return checkResponse(this.ctx, msg, options);
  }
}

let shared: OpenApiValidator | undefined;

/** The process-wide validator over the shared spec (loaded and compiled on first use). */
export function specValidator(): OpenApiValidator {
  shared ??= new OpenApiValidator();
  return shared;
}

/** The spec operation serving `method pathname` (a base prefix before `/v2` is allowed), or undefined. */
export function matchOperation(method: string, pathname: string): OperationMatch | undefined {
  return specValidator().matchOperation(method, pathname);
}

/** Violations of a request (operation, parameters, security, JSON body); [] when it conforms. */
export function validateRequest(msg: HttpRequestMessage, options?: RequestCheckOptions): string[] {
  return specValidator().validateRequest(msg, options);
}

/** Violations of a response (declared status or default, content type, headers, body); [] when it conforms. */
export function validateResponse(msg: HttpResponseMessage, options?: ResponseCheckOptions): string[] {
  return specValidator().validateResponse(msg, options);
}

export { SPEC_PATH, SPEC_SKIP_REASON, specAvailable } from "./openapi-document";
export type { HeaderInput, HttpRequestMessage, HttpResponseMessage } from "./message-parts";
export type { OperationMatch } from "./operation-match";
export type { RequestCheckOptions } from "./validate-request";
export type { ResponseCheckOptions } from "./validate-response";
