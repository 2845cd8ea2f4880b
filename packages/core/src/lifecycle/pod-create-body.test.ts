import type { Deployment } from "../db";
import { podCreateBody } from "./pod-create-body";

// The deploy job's POST /v2/pods body (issue 28 review, finding 2): on a cache volume the persistent volume is
// dropped (a pod mounts one volume), so its GB go to the container disk: a run that asked for room to merge a 70B
// still has it at save.
const d = {
  id: "d1",
  userId: "u1",
  imageName: "runpod/pytorch:2.4",
  gpuCount: 1,
  cloudType: "SECURE",
  containerDiskInGb: 20,
  volumeInGb: 300,
  dataCenterIds: [],
  modelShareable: false,
} as unknown as Deployment;
const volume = { id: "vol-ro", name: "trainpod-cache-EU-RO-1", dataCenter: "EU-RO-1", sizeGb: 500, type: null };
const mount = { mountPath: "/trainpod-cache", maxFillPercent: 80, trustedImages: ["runpod/*"] };
const launch = { env: { TRAINPOD_RUN_TOKEN: "t" }, args: "bash -c start" };

describe("podCreateBody", () => {
  it("on a cache volume: no persistent mount, and the container disk holds what the volume would have", () => {
    const body = podCreateBody(d, "trainpod-d1", { gpuTypeId: "A100", cache: volume }, launch, mount);
    expect(body.mounts).toEqual({ network: [{ volumeId: "vol-ro", path: "/trainpod-cache" }] });
    expect(body.disk).toBe(320);
    expect(body.dataCenterIds).toEqual(["EU-RO-1"]);
    expect(body.env).toMatchObject({ TRAINPOD_RUN_TOKEN: "t", TRAINPOD_CACHE_SCOPE: "user" });
  });

  it("no volume asked: the container disk alone, on a cache volume or not", () => {
    const none = { ...d, volumeInGb: 0 } as Deployment;
    expect(podCreateBody(none, "n", { gpuTypeId: "A100", cache: volume }, launch, mount).disk).toBe(20);
    expect(podCreateBody(none, "n", { gpuTypeId: "A100" }, launch, mount)).not.toHaveProperty("mounts");
  });

  it("without a cache volume: the persistent volume at /workspace and the disk as asked", () => {
    const body = podCreateBody(d, "trainpod-d1", { gpuTypeId: "A100" }, launch, mount);
    expect(body.mounts).toEqual({ persistent: { size: 300, path: "/workspace" } });
    expect(body.disk).toBe(20);
    expect(body.env).toEqual({ TRAINPOD_RUN_TOKEN: "t" });
  });
});
