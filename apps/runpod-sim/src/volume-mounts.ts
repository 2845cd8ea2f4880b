/**
 * A create's network mount, per openapi-v2.json (Mounts, NetworkMount) and RunPod's docs: at most one volume, never
 * with a persistent mount (pod-input.ts answers those), an existing volume, Secure Cloud only, and the pod goes to the
 * volume's data centre: `dataCenterIds`, when given, must include it.
 */
import type { PodInput } from "./pod-input";
import type { VolumeStore } from "./volumes";

export type MountPlacement = { dataCenter: string; dir: string } | { refused: string };

/** Where a pod with a network mount goes (the volume's data centre and folder), why it cannot, or undefined: no mount. */
export function networkMountPlacement(input: PodInput, volumes: VolumeStore): MountPlacement | undefined {
  const mount = input.mounts.network?.[0];
  if (mount === undefined) return undefined;
  const volume = volumes.get(mount.volumeId);
  if (volume === undefined) return { refused: `network volume ${mount.volumeId} does not exist` };
  if (input.cloud !== "SECURE")
    return { refused: "network volumes can be mounted on Secure Cloud pods only (cloud: SECURE)" };
  if (input.dataCenterIds.length > 0 && !input.dataCenterIds.includes(volume.dataCenter))
    return {
      refused: `network volume ${volume.id} is in ${volume.dataCenter}, which dataCenterIds (${input.dataCenterIds.join(", ")}) leaves out`,
    };
  return { dataCenter: volume.dataCenter, dir: volume.dir };
}
