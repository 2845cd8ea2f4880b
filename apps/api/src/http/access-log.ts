import type { RequestHandler } from "express";
import { redactText, type Logger } from "@trainpod/core";

/**
 * One log line per request, written when it ends; query strings are redacted (tokens travel there). At a level
 * that drops `http` lines (production's `info`) nothing is timed or built: winston would make and then drop the
 * entry on every request.
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!logger.isLevelEnabled("http")) return next();
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
