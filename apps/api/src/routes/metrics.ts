import { Router, type RequestHandler } from "express";
import { hasMetricsToken, type Metrics } from "@trainpod/core";

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
