import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";

const MAX_BODY_BYTES = 1024 * 1024;

export class BodyError extends Error {}

/** The request body as JSON; undefined when empty. Throws BodyError when it is not JSON or too big. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError("request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError("request body is not valid JSON");
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = "text/plain; charset=utf-8",
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** RunPod REST v2's error body (RFC 9457, ErrorResponse): `{title, status, detail, errors?}` as application/problem+json. */
export function sendError(
  res: ServerResponse,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
  errors?: string[],
): void {
  const body: Record<string, unknown> = { title: STATUS_CODES[status] ?? "Error", status, detail };
  if (errors !== undefined) body.errors = errors;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export type Params = Record<string, string>;

export interface Route<H> {
  method: string;
  template: string;
  handler: H;
}

/** Finds the route for method + path; templates look like "/pods/{podId}/stop". */
export function matchRoute<H>(
  routes: readonly Route<H>[],
  method: string,
  pathname: string,
): { route: Route<H>; params: Params } | { template: string | null; allowed: string[] } {
  const allowed: string[] = [];
  let template: string | null = null;
  for (const route of routes) {
    const params = matchTemplate(route.template, pathname);
    if (params === null) continue;
    template = route.template;
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  return { template, allowed };
}

function matchTemplate(template: string, pathname: string): Params | null {
  const want = template.split("/");
  const got = pathname.replace(/\/+$/, "").split("/");
  if (want.length !== got.length) return null;
  const params: Params = {};
  for (const [i, part] of want.entries()) {
    const value = got[i] ?? "";
    if (part.startsWith("{") && part.endsWith("}")) {
      if (value === "") return null;
      params[part.slice(1, -1)] = decodeURIComponent(value);
    } else if (part !== value) return null;
  }
  return params;
}
