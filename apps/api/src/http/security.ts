import type { RequestHandler } from "express";
import { ipKeyGenerator, rateLimit, type Options } from "express-rate-limit";
import helmet from "helmet";
import type { Redis } from "ioredis";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { Config, Logger } from "@trainpod/core";

/** Security headers (helmet's defaults: CSP, nosniff, frame-ancestors, HSTS, no referrer leaks, ...). */
export const securityHeaders = (): RequestHandler => helmet();

const RUN_PATH = /^\/v1\/runs\/([^/]+)\//;
const WINDOW_MS = 60_000;
const pass: RequestHandler = (_req, _res, next) => next();

function limiter(name: string, limit: number, deps: { redis: Redis; config: Config; logger: Logger }, extra: Partial<Options>): RequestHandler {
  if (limit === 0) return pass;
  return rateLimit({
    windowMs: WINDOW_MS,
    limit,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    // counts live in Redis, under the app's prefix: every API replica shares them
    store: new RedisStore({
      prefix: `${deps.config.env.QUEUE_PREFIX}:rl:${name}:`,
      sendCommand: (command: string, ...args: string[]) => deps.redis.call(command, ...args) as Promise<RedisReply>,
    }),
    // Redis unavailable: answer the request rather than fail it (readiness reports Redis)
    passOnStoreError: true,
    handler: (_req, res, _next, options) => {
      res.status(options.statusCode).json({ error: { code: "RATE_LIMITED", message: "too many requests; retry after the Retry-After seconds", details: { limit, windowSeconds: WINDOW_MS / 1000 } } });
    },
    ...extra,
  });
}

/**
 * Rate limits, shared by every API replica through Redis: per client IP on the API
 * (RATE_LIMIT_PER_MINUTE), and per deployment on the pod's own routes (RATE_LIMIT_RUN_PER_MINUTE),
 * so many pods behind one address are not counted together. Health checks are not limited.
 */
export function rateLimits(deps: { redis: Redis; config: Config; logger: Logger }): RequestHandler {
  const run = limiter("run", deps.config.env.RATE_LIMIT_RUN_PER_MINUTE, deps, { keyGenerator: (req) => RUN_PATH.exec(req.path)?.[1] ?? "none" });
  const general = limiter("ip", deps.config.env.RATE_LIMIT_PER_MINUTE, deps, { keyGenerator: (req) => ipKeyGenerator(req.ip ?? "unknown") });
  return (req, res, next) => {
    if (req.path === "/healthz" || req.path === "/readyz") return next();
    return RUN_PATH.test(req.path) ? run(req, res, next) : general(req, res, next);
  };
}
