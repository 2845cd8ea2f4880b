import { timingSafeEqual } from "node:crypto";
import { Router, type RequestHandler } from "express";
import type { Metrics } from "@trainpod/core";
import { credentialFrom } from "../http/admin-auth";

/** True when `header` carries `Bearer <token>` (constant-time compare). */
export function hasMetricsToken(header: string | undefined, token: string | undefined): boolean {
  const given = token === undefined ? undefined : credentialFrom(header);
  if (given === undefined || token === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** GET /metrics in Prometheus text format: METRICS_TOKEN as a bearer token, or else an admin's credential. */
export function metricsRoutes(deps: { metrics: Metrics; token: string | undefined; admin: RequestHandler }): Router {
  const router = Router();
  const gate: RequestHandler = (req, res, next) => {
    if (hasMetricsToken(req.get("authorization"), deps.token)) return next();
    return deps.admin(req, res, next);
  };
  router.get("/metrics", gate, async (_req, res) => {
    res.set("Content-Type", deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
