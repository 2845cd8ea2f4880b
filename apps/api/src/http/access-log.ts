import type { RequestHandler } from "express";
import { redactText, type Logger } from "@trainpod/core";

/** One log line per request, written when it ends; query strings are redacted (tokens travel there). */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.http("request", {
        requestId: req.id,
        method: req.method,
        path: redactText(req.originalUrl),
        status: res.statusCode,
        durationMs: Math.round(ms * 10) / 10,
      });
    });
    next();
  };
}
