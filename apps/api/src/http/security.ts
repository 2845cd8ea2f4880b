import type { Request, RequestHandler, Response } from "express";
import { ipKeyGenerator, rateLimit, type Options } from "express-rate-limit";
import helmet from "helmet";
import type { Redis } from "ioredis";
import { RedisStore, type RedisReply } from "rate-limit-redis";
import type { Config, Logger } from "@trainpod/core";

/**
 * What helmet's defaults set on every answer (CSP, nosniff, frame-ancestors, HSTS, no referrer leaks, ...), worked
 * out once: they are static strings, so each answer gets the list instead of helmet's eleven middlewares.
 */
export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = (() => {
  const headers: Array<[string, string]> = [];
  const res = {
    setHeader: (name: string, value: unknown) => void headers.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  helmet()({} as Request, res as unknown as Response, () => undefined);
  return headers;
})();

/** Security headers: helmet's defaults (SECURITY_HEADERS), and no X-Powered-By. */
export const securityHeaders = (): RequestHandler => (_req, res, next) => {
  for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
  res.removeHeader("X-Powered-By");
  next();
};

/** The pod's routes, matched as Express routes them (case-insensitive): /v1/runs and everything under it. */
const RUN_ROUTES = /^\/v1\/runs(?:\/|$)/i;
const WINDOW_MS = 60_000;
const pass: RequestHandler = (_req, _res, next) => next();

type LimiterDeps = { redis: Redis; config: Config; logger: Logger };

function limiter(name: string, limit: number, deps: LimiterDeps, extra: Partial<Options>): RequestHandler {
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
      res.status(options.statusCode).json({
        error: {
          code: "RATE_LIMITED",
          message: "too many requests; retry after the Retry-After seconds",
          details: { limit, windowSeconds: WINDOW_MS / 1000 },
        },
      });
    },
    ...extra,
  });
}

/** Recorded by the pod's routes once the run token holds (routes/runs.ts): the deployment the request counts for. */
export function markRunAuthenticated(res: Response, deploymentId: string): void {
  res.locals.runDeploymentId = deploymentId;
}

function runDeploymentOf(res: Response): string | undefined {
  const id: unknown = res.locals.runDeploymentId;
  return typeof id === "string" ? id : undefined;
}

/**
 * Rate limits per client IP (RATE_LIMIT_PER_MINUTE), shared by every API replica through Redis, on every
 * request before anything else looks at it. The pod's routes (/v1/runs/...) have a bucket of their own, counted
 * before the run token is checked, so a flood of made-up deployment ids is refused like any other; a request
 * whose token holds is given back afterwards, as it counts against its deployment instead (runRateLimit), so
 * many pods behind one address are not counted together. Health checks are not limited.
 */
export function rateLimits(deps: LimiterDeps): RequestHandler {
  const perIp = { keyGenerator: (req: Parameters<RequestHandler>[0]) => ipKeyGenerator(req.ip ?? "unknown") };
  const runs = limiter("run-ip", deps.config.env.RATE_LIMIT_PER_MINUTE, deps, {
    ...perIp,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => runDeploymentOf(res) !== undefined,
  });
  const general = limiter("ip", deps.config.env.RATE_LIMIT_PER_MINUTE, deps, perIp);
  // no limit configured: nothing to route (req.path parses the URL on every request)
  if (runs === pass && general === pass) return pass;
  return (req, res, next) => {
    if (req.path === "/healthz" || req.path === "/readyz") return next();
    return RUN_ROUTES.test(req.path) ? runs(req, res, next) : general(req, res, next);
  };
}

/**
 * Per deployment on the pod's routes (RATE_LIMIT_RUN_PER_MINUTE), mounted after the run token check: only a
 * request that proved it speaks for the deployment spends that deployment's budget (and makes a counter).
 */
export function runRateLimit(deps: LimiterDeps): RequestHandler {
  return limiter("run", deps.config.env.RATE_LIMIT_RUN_PER_MINUTE, deps, {
    keyGenerator: (_req, res) => runDeploymentOf(res) ?? "none",
  });
}
