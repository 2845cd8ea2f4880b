import type { Deployment } from "../db";
import type { CreatePodRequest } from "../runpod";
import { cacheCreateFields } from "../cache-volumes/deploy-cache";
import type { Placement as CachePlacement } from "../cache-volumes/placement";
import type { CacheMountSettings } from "../cache-volumes/pod-mount";
import type { PodLaunch } from "./lifecycle-deps";

/**
 * The deploy job's POST /v2/pods body for one placement: one GPU type (v2 never falls back), the persistent volume
 * asked for at /workspace, the user's data centres. On a cache volume: the network mount instead of the persistent one
 * (never both: RunPod answers 400), its GB on the container disk instead, in the volume's data centre, with the agent's
 * cache env.
 */
export function podCreateBody(
  d: Deployment,
  name: string,
  at: CachePlacement,
  launch: PodLaunch,
  mount: CacheMountSettings | undefined,
): CreatePodRequest {
  const cache = cacheCreateFields(d, at, mount);
  return {
    name,
    image: d.imageName,
    gpu: { id: at.gpuTypeId, count: d.gpuCount },
    cloud: d.cloudType,
    disk: cache.disk ?? d.containerDiskInGb,
    ...(cache.mounts
      ? { mounts: cache.mounts }
      : d.volumeInGb >= 10
        ? { mounts: { persistent: { size: d.volumeInGb, path: "/workspace" } } }
        : {}),
    env: { ...launch.env, ...cache.env },
    args: launch.args,
    ...(cache.dataCenterIds
      ? { dataCenterIds: cache.dataCenterIds }
      : d.dataCenterIds.length > 0
        ? { dataCenterIds: d.dataCenterIds }
        : {}),
  };
}
