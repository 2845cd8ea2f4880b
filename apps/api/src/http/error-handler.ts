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

/** A client error of body-parser or another http-error (a 4xx `status`): the status and the message it may show. */
export function clientHttpError(err: unknown): { status: number; message: string } | null {
  const e = (typeof err === "object" && err !== null ? err : {}) as HttpLikeError;
  const status = e.status ?? e.statusCode;
  if (typeof status !== "number" || status < 400 || status >= 500) return null;
  const message =
    e.type === "entity.parse.failed" ? "request body is not valid JSON" : (e.expose && e.message) || "bad request";
  return { status, message };
}

function fromHttpError(err: unknown): { status: number; body: ErrorBody } | null {
  const http = clientHttpError(err);
  if (!http) return null;
  const { status, message } = http;
  const code = status === 413 ? "PAYLOAD_TOO_LARGE" : status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "BAD_REQUEST";
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
    const http = fromHttpError(err);
    if (http) return send(res, http.status, http.body);
    logger.error("unhandled error", { err, requestId: req.id, method: req.method, path: req.path });
    return send(res, 500, { error: { code: "INTERNAL", message: "internal error", details: { requestId: req.id } } });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: "NOT_FOUND", message: `no route for ${req.method} ${req.path}` } });
};
