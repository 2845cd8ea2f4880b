import type { Redis } from "ioredis";
import type { Logger } from "../logging/logger";
import type { GpuCatalogQuery, RunPodClient } from "./client";
import { GpuTypeListSchema, type GpuType } from "./schemas";

export interface GpuCatalogCacheOptions {
  redis: Redis;
  runpod: Pick<RunPodClient, "listGpuTypes">;
  /** key prefix (QUEUE_PREFIX, so two installations on one Redis do not share) */
  prefix: string;
  /** how long one catalog read serves every worker (RUNPOD_CATALOG_TTL_SECONDS) */
  ttlSeconds: number;
  logger?: Logger;
  /** how long this process reuses what it read (or that a read failed) before asking Redis again; default 2000 */
  localTtlMs?: number;
  /** for tests: the clock of the local memo */
  nowMs?: () => number;
}

/**
 * GET /v2/catalog/gpus?include=AVAILABILITY&product=POD, read once per TTL for every worker
 * process (the answer is kept in Redis) and once per process while a read is in flight. The catalog
 * only orders candidates, so a failed read is not an error: `get` answers null and the deploy job
 * keeps the user's order.
 */
export class GpuCatalogCache {
  private readonly inFlight = new Map<string, Promise<GpuType[] | null>>();
  private readonly local = new Map<string, { at: number; gpus: GpuType[] | null }>();

  constructor(private readonly o: GpuCatalogCacheOptions) {}

  async get(query: Required<GpuCatalogQuery>): Promise<GpuType[] | null> {
    const key = `${this.o.prefix}:runpod:catalog:gpus:${query.cloud}:${query.count}`;
    const now = (this.o.nowMs ?? Date.now)();
    const memo = this.local.get(key);
    if (memo !== undefined && now - memo.at < (this.o.localTtlMs ?? 2_000)) return memo.gpus;
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    const read = this.read(key, query)
      .then((gpus) => {
        this.local.set(key, { at: now, gpus });
        return gpus;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, read);
    return read;
  }

  private async read(key: string, query: Required<GpuCatalogQuery>): Promise<GpuType[] | null> {
    const cached = await this.o.redis.get(key).catch(() => null);
    if (cached !== null) {
      const parsed = GpuTypeListSchema.safeParse(JSON.parse(cached));
      if (parsed.success) return parsed.data.gpus;
    }
    try {
      const gpus = await this.o.runpod.listGpuTypes(query);
      await this.o.redis.set(key, JSON.stringify({ gpus }), "EX", this.o.ttlSeconds).catch(() => undefined);
      return gpus;
    } catch (err) {
      this.o.logger?.warn("runpod catalog read failed: GPU types are tried in the user's order", {
        error: err instanceof Error ? err.message : String(err),
      });
      return null;
    }
  }
}
