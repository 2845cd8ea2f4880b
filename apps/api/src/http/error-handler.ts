import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { AppError, type Logger } from "@trainpod/core";
import { HTTP_STATUS } from "./error-status";

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

function send(res: Parameters<RequestHandler>[1], status: number, body: ErrorBody): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(status).json(body);
}

/** Body-parser and other http-errors carry `status` and `type`. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

function fromHttpError(err: HttpLikeError): { status: number; body: ErrorBody } | null {
  const status = err.status ?? err.statusCode;
  if (typeof status !== "number" || status < 400 || status >= 500) return null;
  const code = status === 413 ? "PAYLOAD_TOO_LARGE" : status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "BAD_REQUEST";
  const message =
    err.type === "entity.parse.failed"
      ? "request body is not valid JSON"
      : (err.expose && err.message) || "bad request";
  return { status, body: { error: { code, message } } };
}

/** The JSON error middleware: every error leaves as {error: {code, message, details}}. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof AppError) {
      return send(res, HTTP_STATUS[err.code], {
        error: { code: err.code, message: err.message, details: err.details },
      });
    }
    if (err instanceof ZodError) {
      const details = err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
      return send(res, 400, { error: { code: "VALIDATION_FAILED", message: "request is invalid", details } });
    }
    const http = typeof err === "object" && err !== null ? fromHttpError(err as HttpLikeError) : null;
    if (http) return send(res, http.status, http.body);
    logger.error("unhandled error", { err, requestId: req.id, method: req.method, path: req.path });
    return send(res, 500, { error: { code: "INTERNAL", message: "internal error", details: { requestId: req.id } } });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: "NOT_FOUND", message: `no route for ${req.method} ${req.path}` } });
};
