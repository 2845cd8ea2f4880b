import { Prisma, type Deployment, type PrismaClient } from "../db";
import { recordEvent } from "../deployment/state-machine";
import type { GpuCandidate } from "../lifecycle/gpu-candidates";
import type { GpuType } from "../runpod";
import type { CacheVolumeDirectory } from "./directory";
import { imageAllowed } from "../spend/settings";
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
  // an image outside the operator's ALLOWED_IMAGES (a user's own extraImages) is code the operator has not vetted:
  // its pod could rewrite the shared venv another user's trainer runs with their HF_TOKEN. Never mounted; placed as
  // without a cache, whatever the mode (require cannot be met for it), and the deployment says why
  if (mode !== "off" && !imageAllowed(d.imageName, deps.cache.mount.trustedImages))
    return {
      placements: candidates.map((c) => ({ gpuTypeId: c.gpuTypeId })),
      why: `image ${d.imageName} is not one of the operator's ALLOWED_IMAGES (${deps.cache.mount.trustedImages.join(", ") || "none"})`,
      skipped: true,
    };
  if (mode === "off") return cachePlan({ ...d, mode, candidates, catalog, volumes: [], warmVolumeIds: new Set() });
  const [volumes, warm] = await Promise.all([deps.cache.directory.list(), warmVolumeIds(deps.prisma, d.baseModel)]);
  return cachePlan({ ...d, mode, candidates, catalog, volumes, warmVolumeIds: warm });
}

/** The persistent volume a cache placement drops (a pod mounts one volume): its GB, 0 when none was asked. */
export const droppedVolumeGb = (d: Pick<Deployment, "volumeInGb">): number => (d.volumeInGb >= 10 ? d.volumeInGb : 0);

/**
 * The create body's fields for a placement on a cache volume: the network mount alone (a pod takes one volume: the
 * persistent one is dropped), its GB added to the container disk (the run's files, a merged 70B among them, still
 * fit), the volume's data centre, and the agent's cache env (its scope: the user's own, unless the model is public).
 * Without a cache: nothing changes.
 */
export function cacheCreateFields(
  d: Pick<Deployment, "volumeInGb" | "containerDiskInGb" | "userId" | "modelShareable">,
  placement: Placement,
  mount: CacheMountSettings | undefined,
): {
  mounts?: ReturnType<typeof cacheMounts>;
  disk?: number;
  dataCenterIds?: string[];
  env?: Record<string, string>;
} {
  if (placement.cache === undefined || mount === undefined) return {};
  return {
    mounts: cacheMounts(placement.cache, mount),
    disk: d.containerDiskInGb + droppedVolumeGb(d),
    dataCenterIds: [placement.cache.dataCenter],
    env: cacheEnv(placement.cache, mount, { userId: d.userId, modelShareable: d.modelShareable }),
  };
}

/**
 * The deployment's event for a pod created on a cache volume (the persistent volume it did not get, the container
 * disk that took its place, the model cache's scope); or, for a pod whose image kept it off the volume, why.
 */
export async function recordCacheUse(
  prisma: PrismaClient,
  d: Deployment,
  placement: Placement,
  plan?: CachePlan,
): Promise<void> {
  const v = placement.cache;
  if (v === undefined) {
    if (plan?.skipped)
      await recordEvent(prisma, d.id, {
        type: "cache_volume_skipped",
        message: `placed without a cache volume: ${plan.why}`,
        data: { reason: "IMAGE_NOT_TRUSTED", image: d.imageName },
      });
    return;
  }
  const dropped = droppedVolumeGb(d);
  const disk = d.containerDiskInGb + dropped;
  const scope = d.modelShareable ? "shared" : "user";
  await recordEvent(prisma, d.id, {
    type: "cache_volume_mounted",
    message:
      `cache volume ${v.id} (${v.sizeGb} GB, ${v.dataCenter}) mounted` +
      (dropped > 0
        ? `; the ${dropped} GB persistent volume was dropped (a pod mounts a network volume or a persistent one, never both): its ${dropped} GB were added to the container disk, ${disk} GB in all`
        : "") +
      (scope === "shared"
        ? "; the model is public: its weights are cached for every user"
        : "; the model's weights are cached for this user only"),
    data: {
      volumeId: v.id,
      dataCenterId: v.dataCenter,
      sizeGb: v.sizeGb,
      droppedVolumeInGb: dropped,
      containerDiskInGb: disk,
      modelScope: scope,
    },
  });
}
