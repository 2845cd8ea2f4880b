import { Router } from "express";
import { z } from "zod";
import { AppError, cacheVolumeSpend, type CacheDeps } from "@trainpod/core";

export interface AdminCacheRouteDeps {
  /** the cache volumes (absent: this API has no RunPod volume client, e.g. a test's in-memory RunPod) */
  cache?: CacheDeps;
  /** CACHE_VOLUME_USD_PER_GB_MONTH */
  usdPerGbMonth: string;
}

/** POST /v1/admin/cache-volumes: the request body (the OpenAPI document shows it). */
export const cacheVolumeCreateSchema = z
  .object({
    dataCenter: z.string().regex(/^[A-Z0-9-]{2,40}$/, "a RunPod data centre id like EU-RO-1"),
    sizeGb: z.number().int().min(10).max(4096),
    type: z.enum(["STANDARD", "HIGH_PERFORMANCE"]).optional(),
  })
  .strict();

/**
 * The operators' cache volumes (issue 28), one RunPod network volume per data centre: list with each one's monthly
 * price (admins and operators), create and delete (admins: adminAuth refuses an operator's POST and DELETE). Mounted
 * behind adminAuth.
 */
export function adminCacheRoutes(deps: AdminCacheRouteDeps): Router {
  const router = Router();
  const cache = (): CacheDeps => {
    if (!deps.cache)
      throw new AppError("NOT_FOUND", "cache volumes are not available on this API (no RunPod volume client)");
    return deps.cache;
  };

  router.get("/v1/admin/cache-volumes", async (_req, res) => {
    res.json(cacheVolumeSpend(await cache().directory.fresh(), deps.usdPerGbMonth));
  });

  router.post("/v1/admin/cache-volumes", async (req, res) => {
    const body = cacheVolumeCreateSchema.parse(req.body);
    const volume = await cache().directory.create(body.dataCenter, body.sizeGb, body.type);
    res.status(201).json(cacheVolumeSpend([volume], deps.usdPerGbMonth).items[0]);
  });

  router.delete("/v1/admin/cache-volumes/:id", async (req, res) => {
    const volume = await cache().directory.remove(String(req.params.id));
    res.json({ deleted: volume.id, dataCenter: volume.dataCenter });
  });

  return router;
}
