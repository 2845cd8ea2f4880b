import type { Redis } from "ioredis";
import { AppError } from "../errors";
import type { Logger } from "../logging/logger";
import { NetworkVolumeSchema, type NetworkVolume, type NetworkVolumeClient } from "../runpod/network-volumes";
import { z } from "zod";

/**
 * The operators' cache volumes: RunPod network volumes named `${namePrefix}${dataCenter}`, at most one per data centre.
 * RunPod's own volume list is the registry (no table): read once per TTL for every process (kept in Redis), and once
 * per process while a read is in flight; an admin's create or delete clears it at once.
 */
export interface CacheVolume {
  id: string;
  name: string;
  dataCenter: string;
  sizeGb: number;
  type: string | null;
}

export interface CacheVolumeDirectoryOptions {
  volumes: NetworkVolumeClient;
  /** the name prefix that marks a cache volume (CACHE_VOLUME_NAME_PREFIX) */
  namePrefix: string;
  /** shares one read between processes; absent: this process only */
  redis?: Redis;
  /** Redis key prefix (QUEUE_PREFIX) */
  prefix: string;
  /** CACHE_VOLUMES_TTL_SECONDS */
  ttlSeconds: number;
  logger?: Logger;
  /** how long this process reuses a read before asking Redis again; default 2000 */
  localTtlMs?: number;
  nowMs?: () => number;
}

const Cached = z.object({ networkVolumes: z.array(NetworkVolumeSchema) });

export class CacheVolumeDirectory {
  private inFlight: Promise<CacheVolume[] | null> | undefined;
  private memo: { at: number; volumes: CacheVolume[] | null } | undefined;

  constructor(private readonly o: CacheVolumeDirectoryOptions) {}

  private get key(): string {
    return `${this.o.prefix}:runpod:network-volumes`;
  }

  /** A volume of ours? Its name is the prefix and its own data centre. */
  isCacheVolume(v: NetworkVolume): boolean {
    return v.name === `${this.o.namePrefix}${v.dataCenter}`;
  }

  /** The cache volumes; null when RunPod's list cannot be read (placement then goes on without a cache). */
  async list(): Promise<CacheVolume[] | null> {
    const now = (this.o.nowMs ?? Date.now)();
    if (this.memo !== undefined && now - this.memo.at < (this.o.localTtlMs ?? 2_000)) return this.memo.volumes;
    this.inFlight ??= this.read()
      .then((volumes) => {
        this.memo = { at: now, volumes };
        return volumes;
      })
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Creates the data centre's cache volume; CONFLICT when it has one already. */
  async create(dataCenter: string, sizeGb: number, type?: "STANDARD" | "HIGH_PERFORMANCE"): Promise<CacheVolume> {
    const existing = (await this.fresh()).find((v) => v.dataCenter === dataCenter);
    if (existing)
      throw new AppError(
        "CONFLICT",
        `${dataCenter} has a cache volume already: ${existing.id} (${existing.sizeGb} GB)`,
      );
    const created = await this.o.volumes.createNetworkVolume({
      name: `${this.o.namePrefix}${dataCenter}`,
      size: sizeGb,
      dataCenter,
      ...(type ? { type } : {}),
    });
    await this.invalidate();
    return view(created);
  }

  /** Deletes a cache volume, by its id or its data centre; NOT_FOUND when there is none. */
  async remove(idOrDataCenter: string): Promise<CacheVolume> {
    const volume = (await this.fresh()).find((v) => v.id === idOrDataCenter || v.dataCenter === idOrDataCenter);
    if (!volume) throw new AppError("NOT_FOUND", `no cache volume ${idOrDataCenter}`);
    await this.o.volumes.deleteNetworkVolume(volume.id);
    await this.invalidate();
    return volume;
  }

  /** Forgets every read (this process's and the shared one). */
  async invalidate(): Promise<void> {
    this.memo = undefined;
    await this.o.redis?.del(this.key).catch(() => undefined);
  }

  /** RunPod's list now (an admin's view), cached for the others. */
  async fresh(): Promise<CacheVolume[]> {
    const all = await this.o.volumes.listNetworkVolumes();
    await this.o.redis
      ?.set(this.key, JSON.stringify({ networkVolumes: all }), "EX", this.o.ttlSeconds)
      .catch(() => undefined);
    this.memo = undefined;
    return all.filter((v) => this.isCacheVolume(v)).map(view);
  }

  private async read(): Promise<CacheVolume[] | null> {
    const cached = await this.o.redis?.get(this.key).catch(() => null);
    if (cached) {
      const parsed = Cached.safeParse(JSON.parse(cached));
      if (parsed.success) return parsed.data.networkVolumes.filter((v) => this.isCacheVolume(v)).map(view);
    }
    try {
      return await this.fresh();
    } catch (err) {
      this.o.logger?.warn("runpod network volume list failed: deployments are placed without a cache volume", {
        error: err instanceof Error ? err.message : String(err),
      });
      return null;
    }
  }
}

function view(v: NetworkVolume): CacheVolume {
  return { id: v.id, name: v.name, dataCenter: v.dataCenter, sizeGb: v.size, type: v.type ?? null };
}
