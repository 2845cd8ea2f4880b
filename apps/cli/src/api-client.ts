import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { Transform } from "node:stream";
import type { CliConfig } from "./config";
import { CliError } from "./exit-codes";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** The API answered with an error: {error: {code, message, details}}. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly details: unknown,
  ) {
    super(formatApiError(status, code, apiMessage, details));
  }
}

function formatApiError(status: number, code: string, message: string, details: unknown): string {
  const problems = (details as { problems?: Array<{ code: string; field?: string; message: string }> } | undefined)
    ?.problems;
  const lines = [`${code} (HTTP ${status}): ${message}`];
  if (Array.isArray(problems))
    for (const p of problems) lines.push(`  - ${p.code}${p.field ? ` [${p.field}]` : ""}: ${p.message}`);
  else if (Array.isArray(details))
    for (const d of details as Array<{ path?: string; message?: string }>)
      lines.push(`  - ${d.path || "(body)"}: ${d.message}`);
  return lines.join("\n");
}

export function toApiError(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } };
    if (body.error)
      return new ApiError(status, body.error.code ?? "ERROR", body.error.message ?? "", body.error.details);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(status, "HTTP_ERROR", text.slice(0, 300) || "no body", undefined);
}

/** The CLI's only way to trainpod: HTTP to the API with the user's key. */
export class ApiClient {
  constructor(readonly config: CliConfig) {}

  get authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.config.apiKey}` };
  }

  url(path: string): string {
    return `${this.config.apiUrl}${path}`;
  }

  async request<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: {
          ...this.authHeaders,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new CliError(
        `cannot reach the API at ${this.config.apiUrl}: ${(err as Error).cause ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok) throw toApiError(res.status, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Streams a file to POST /v1/datasets, calling onProgress as bytes leave. */
  upload(file: string, name: string, onProgress: (sent: number, total: number) => void): Promise<Json> {
    const total = statSync(file).size;
    const target = new URL(this.url(`/v1/datasets?name=${encodeURIComponent(name)}`));
    const lib = target.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        target,
        {
          method: "POST",
          headers: { ...this.authHeaders, "content-type": "application/x-ndjson", "content-length": String(total) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if ((res.statusCode ?? 500) >= 400) reject(toApiError(res.statusCode ?? 500, text));
            else resolve(JSON.parse(text) as Json);
          });
          res.on("error", reject);
        },
      );
      req.on("error", (err) => reject(new CliError(`upload failed: ${err.message}`)));
      let sent = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          sent += chunk.length;
          onProgress(sent, total);
          done(null, chunk);
        },
      });
      createReadStream(file).on("error", reject).pipe(meter).pipe(req);
    });
  }
}
