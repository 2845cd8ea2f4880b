import { Router } from "express";
import type { Redis } from "ioredis";
import { pingDatabase, withTimeout, type PrismaClient } from "@trainpod/core";

export interface HealthDeps {
  prisma: PrismaClient;
  redis: Redis;
}

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await fn();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** /healthz: the process is up. /readyz: Postgres and Redis answer, else 503. */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const [postgres, redis] = await Promise.all([
      check(() => pingDatabase(deps.prisma, 2000)),
      check(() => withTimeout(deps.redis.ping(), 2000, "redis")),
    ]);
    const ready = postgres.ok && redis.ok;
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready", checks: { postgres, redis } });
  });
  return router;
}
