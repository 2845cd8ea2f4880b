import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { AppError, openAiError, openAiParam, type Logger } from "@trainpod/core";
import { clientHttpError } from "../http/error-handler";
import { HTTP_STATUS } from "../http/error-status";

interface Problem {
  code?: string;
  field?: string;
  path?: string;
  message?: string;
}
interface Details {
  param?: string | null;
  code?: string;
  problems?: Problem[];
  badLines?: Array<{ line: number; reason: string }>;
}

/** An AppError as OpenAI's error: its problems (pre-flight, hyperparameters) and bad lines told in the message. */
function fromAppError(err: AppError) {
  const d = (typeof err.details === "object" && err.details !== null ? err.details : {}) as Details;
  let message = err.message;
  let param = d.param ?? null;
  const first = d.problems?.[0];
  if (first) {
    param ??= openAiParam(first.field ?? first.path ?? "");
    if (err.code === "PREFLIGHT_FAILED")
      message = `${message}: ${d.problems?.map((p) => `${openAiParam(p.field ?? "")}: ${p.message ?? p.code}`).join("; ")}`;
  }
  if (d.badLines && d.badLines.length > 0) {
    param ??= "file";
    message = `${message}: ${d.badLines
      .slice(0, 5)
      .map((b) => `line ${b.line}: ${b.reason}`)
      .join("; ")}`;
  }
  return openAiError(
    HTTP_STATUS[err.code],
    typeof d.code === "string" ? d.code : err.code,
    message.slice(0, 2000),
    param,
  );
}

/**
 * Every error under /openai/v1 in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, so OpenAI's SDKs
 * raise their own error classes (BadRequestError, AuthenticationError, NotFoundError...). The statuses are
 * trainpod's (error-status.ts), a refused body (422) answering 400 as OpenAI does.
 */
export function openAiErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return void res.destroy();
    let out;
    if (err instanceof AppError) out = fromAppError(err);
    else if (err instanceof ZodError) {
      const issue = err.issues[0];
      const path = issue?.path.join(".") ?? "";
      out = openAiError(
        400,
        "VALIDATION_FAILED",
        `${openAiParam(path)}: ${issue?.message ?? "invalid"}`,
        openAiParam(path) || null,
      );
    } else {
      const http = clientHttpError(err);
      if (http) {
        out = openAiError(http.status, http.status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST", http.message);
      } else {
        logger.error("unhandled error", { err, requestId: req.id, method: req.method, path: req.path });
        out = openAiError(500, "INTERNAL", `internal error (request ${String(req.id)})`);
      }
    }
    res.status(out.status).json(out.body);
  };
}

/** An unknown route under /openai/v1: OpenAI's 404. */
export const openAiNotFound: RequestHandler = (req, res) => {
  const out = openAiError(404, "NOT_FOUND", `trainpod does not implement ${req.method} ${req.baseUrl}${req.path}`);
  res.status(out.status).json(out.body);
};
