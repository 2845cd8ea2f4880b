import { Prisma, type Deployment, type PrismaClient } from "../db";
import { recordEvent } from "../deployment/state-machine";
import type { GpuCandidate } from "../lifecycle/gpu-candidates";
import type { GpuType } from "../runpod";
import type { CacheVolumeDirectory } from "./directory";
import { cacheEnv, cacheMounts, type CacheMountSettings } from "./pod-mount";
import { CACHE_MODES, cachePlan, type CacheMode, type CachePlan, type Placement } from "./placement";

/** What the deploy job needs for the cache volumes (absent: no cache, every create as before). */
export interface CacheDeps {
  directory: CacheVolumeDirectory;
  mount: CacheMountSettings;
}

/** The deployment's `cache` field (its cacheMode column); anything else than a known mode reads as prefer. */
export function cacheModeOf(d: Pick<Deployment, "cacheMode">): CacheMode {
  return (CACHE_MODES as readonly string[]).includes(d.cacheMode) ? (d.cacheMode as CacheMode) : "prefer";
}

/** Cache volumes a finished run of this base model mounted: its weights (and the packages) are on them. */
async function warmVolumeIds(prisma: PrismaClient, baseModel: string): Promise<Set<string>> {
  const rows = await prisma.$queryRaw<Array<{ id: string }>>(Prisma.sql`
    SELECT DISTINCT e."data"->>'volumeId' AS id FROM "DeploymentEvent" e JOIN "Deployment" d ON d."id" = e."deploymentId"
    WHERE e."type" = 'cache_volume_mounted' AND d."baseModel" = ${baseModel} AND d."status" = 'SUCCEEDED'
    LIMIT 100`);
  return new Set(rows.map((r) => r.id).filter(Boolean));
}

/** The creates the deploy job tries for `d`: its GPU candidates, with the cache volumes first (placement.ts). */
export async function placementsFor(
  deps: { prisma: PrismaClient; cache?: CacheDeps },
  d: Deployment,
  candidates: readonly GpuCandidate[],
  catalog: readonly GpuType[] | null,
): Promise<CachePlan> {
  if (!deps.cache || candidates.length === 0)
    return { placements: candidates.map((c) => ({ gpuTypeId: c.gpuTypeId })), why: "no cache configured" };
  const mode = cacheModeOf(d);
  if (mode === "off") return cachePlan({ ...d, mode, candidates, catalog, volumes: [], warmVolumeIds: new Set() });
  const [volumes, warm] = await Promise.all([deps.cache.directory.list(), warmVolumeIds(deps.prisma, d.baseModel)]);
  return cachePlan({ ...d, mode, candidates, catalog, volumes, warmVolumeIds: warm });
}

/**
 * The create body's fields for a placement on a cache volume: the network mount alone (a pod takes one volume: the
 * persistent one is dropped), the volume's data centre, and the agent's cache env. Without a cache: nothing changes.
 */
export function cacheCreateFields(
  d: Pick<Deployment, "volumeInGb">,
  placement: Placement,
  mount: CacheMountSettings | undefined,
): { mounts?: ReturnType<typeof cacheMounts>; dataCenterIds?: string[]; env?: Record<string, string> } {
  if (placement.cache === undefined || mount === undefined) return {};
  return {
    mounts: cacheMounts(placement.cache, mount),
    dataCenterIds: [placement.cache.dataCenter],
    env: cacheEnv(placement.cache, mount),
  };
}

/** The deployment's event for a pod created on a cache volume (and the persistent volume it did not get). */
export async function recordCacheUse(prisma: PrismaClient, d: Deployment, placement: Placement): Promise<void> {
  const v = placement.cache;
  if (v === undefined) return;
  const dropped = d.volumeInGb >= 10 ? d.volumeInGb : 0;
  await recordEvent(prisma, d.id, {
    type: "cache_volume_mounted",
    message:
      `cache volume ${v.id} (${v.sizeGb} GB, ${v.dataCenter}) mounted` +
      (dropped > 0
        ? `; the ${dropped} GB persistent volume was dropped: a pod mounts a network volume or a persistent one, never both`
        : ""),
    data: { volumeId: v.id, dataCenterId: v.dataCenter, sizeGb: v.sizeGb, droppedVolumeInGb: dropped },
  });
}
