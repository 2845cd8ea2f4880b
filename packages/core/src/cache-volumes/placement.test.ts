import { createHash } from "node:crypto";
import { cachePlan, type CachePlanInput } from "./placement";
import { cacheCreateFields, placementsFor } from "./deploy-cache";
import type { CacheVolumeDirectory } from "./directory";
import type { Deployment, PrismaClient } from "../db";
import { volumeMonthMicros } from "./cost";

const A100 = { gpuTypeId: "A100", availability: "HIGH" as const, podHourMicros: null };
const H100 = { gpuTypeId: "H100", availability: "HIGH" as const, podHourMicros: null };
const ro = { id: "vol-ro", name: "trainpod-cache-EU-RO-1", dataCenter: "EU-RO-1", sizeGb: 500, type: null };
const ks = { id: "vol-ks", name: "trainpod-cache-US-KS-2", dataCenter: "US-KS-2", sizeGb: 100, type: null };
const gpu = (id: string, stockedIn: string[]) => ({
  id,
  price: { secure: 1, community: 0.5 },
  dataCenters: stockedIn.map((dc) => ({ id: dc, availability: "HIGH" as const })),
});
const base: CachePlanInput = {
  mode: "prefer",
  cloudType: "SECURE",
  dataCenterIds: [],
  candidates: [A100, H100],
  catalog: null,
  volumes: [ro],
  warmVolumeIds: new Set(),
};
const order = (input: Partial<CachePlanInput>) =>
  cachePlan({ ...base, ...input }).placements.map((p) => `${p.gpuTypeId}@${p.cache?.id ?? "-"}`);

describe("cachePlan: the creates to try with the cache volumes", () => {
  it("prefer: every GPU type on the cache volume first, then every type without it", () => {
    expect(order({})).toEqual(["A100@vol-ro", "H100@vol-ro", "A100@-", "H100@-"]);
  });

  it("require: only on a cache volume; none usable means no placement, and says why", () => {
    expect(order({ mode: "require" })).toEqual(["A100@vol-ro", "H100@vol-ro"]);
    const none = cachePlan({ ...base, mode: "require", dataCenterIds: ["US-TX-3"] });
    expect(none.placements).toEqual([]);
    expect(none.why).toMatch(/no cache volume in the deployment's data centres \(US-TX-3\)/);
  });

  it("off, Community Cloud or an unreadable list: as without a cache", () => {
    expect(order({ mode: "off" })).toEqual(["A100@-", "H100@-"]);
    expect(order({ cloudType: "COMMUNITY" })).toEqual(["A100@-", "H100@-"]);
    expect(order({ volumes: null })).toEqual(["A100@-", "H100@-"]);
    expect(cachePlan({ ...base, mode: "require", cloudType: "COMMUNITY" }).placements).toEqual([]);
  });

  it("only volumes in the user's data centres; the volume where this model is cached first", () => {
    expect(order({ volumes: [ro, ks], dataCenterIds: ["US-KS-2"] })).toEqual([
      "A100@vol-ks",
      "H100@vol-ks",
      "A100@-",
      "H100@-",
    ]);
    expect(order({ volumes: [ro, ks], warmVolumeIds: new Set(["vol-ks"]), mode: "require" })).toEqual([
      "A100@vol-ks",
      "H100@vol-ks",
      "A100@vol-ro",
      "H100@vol-ro",
    ]);
  });

  it("within a volume, the GPU types the catalog shows stocked in its data centre first", () => {
    const catalog = [gpu("A100", ["US-TX-3"]), gpu("H100", ["EU-RO-1"])];
    expect(order({ catalog, mode: "require" })).toEqual(["H100@vol-ro", "A100@vol-ro"]);
  });
});

describe("a create on a cache volume", () => {
  const mount = { mountPath: "/trainpod-cache", maxFillPercent: 80, trustedImages: ["runpod/*"] };
  const userId = "6f1c2b9e-0000-4000-8000-000000000001";
  const d = { volumeInGb: 50, containerDiskInGb: 20, userId, modelShareable: false };
  const userKey = createHash("sha256").update(userId).digest("hex").slice(0, 16);

  it("mounts the network volume alone (no persistent volume), in its data centre, with the agent's env", () => {
    const fields = cacheCreateFields(d, { gpuTypeId: "A100", cache: ro }, mount);
    expect(fields.mounts).toEqual({ network: [{ volumeId: "vol-ro", path: "/trainpod-cache" }] });
    expect(fields.mounts).not.toHaveProperty("persistent");
    expect(fields.dataCenterIds).toEqual(["EU-RO-1"]);
    expect(fields.env).toEqual({
      TRAINPOD_CACHE_DIR: "/trainpod-cache",
      TRAINPOD_CACHE_VOLUME_ID: "vol-ro",
      TRAINPOD_CACHE_MAX_BYTES: "400000000000",
      TRAINPOD_CACHE_SCOPE: "user",
      TRAINPOD_CACHE_USER: userKey,
    });
  });

  it("shares the model cache only for a model the hub called public and ungated; else the user's own", () => {
    const scope = (over: Partial<typeof d>) =>
      cacheCreateFields({ ...d, ...over }, { gpuTypeId: "A100", cache: ro }, mount).env?.TRAINPOD_CACHE_SCOPE;
    expect(scope({ modelShareable: true })).toBe("shared");
    expect(scope({ modelShareable: false })).toBe("user");
    // another user's key is another folder; the user id itself never reaches the pod
    const other = cacheCreateFields({ ...d, userId: "someone-else" }, { gpuTypeId: "A100", cache: ro }, mount);
    expect(other.env?.TRAINPOD_CACHE_USER).toMatch(/^[0-9a-f]{16}$/);
    expect(other.env?.TRAINPOD_CACHE_USER).not.toBe(userKey);
    expect(JSON.stringify(cacheCreateFields(d, { gpuTypeId: "A100", cache: ro }, mount))).not.toContain(userId);
  });

  it("changes nothing without a cache volume", () => {
    expect(cacheCreateFields(d, { gpuTypeId: "A100" }, mount)).toEqual({});
  });

  it("costs size × the GB-month price, in micro-dollars", () => {
    expect(volumeMonthMicros(500, "0.07")).toBe(35_000_000n);
  });
});

describe("placementsFor: the cache only for the operator's images", () => {
  const mount = { mountPath: "/trainpod-cache", maxFillPercent: 80, trustedImages: ["runpod/*"] };
  // a pure step: an untrusted image never reads the volume list or the database
  const deps = {
    prisma: {} as PrismaClient,
    cache: { directory: { list: async () => [ro] } as unknown as CacheVolumeDirectory, mount },
  };
  const deployment = (imageName: string, cacheMode = "require") =>
    ({ imageName, cacheMode, baseModel: "org/m", cloudType: "SECURE", dataCenterIds: [] }) as unknown as Deployment;

  it("an image outside ALLOWED_IMAGES (a user's extraImages) is placed without the volume, whatever the mode, and says why", async () => {
    const plan = await placementsFor(deps, deployment("ghcr.io/alice/trainer:1"), [A100, H100], null);
    expect(plan.placements).toEqual([{ gpuTypeId: "A100" }, { gpuTypeId: "H100" }]);
    expect(plan.skipped).toBe(true);
    expect(plan.why).toMatch(
      /image ghcr\.io\/alice\/trainer:1 is not one of the operator's ALLOWED_IMAGES \(runpod\/\*\)/,
    );
  });

  it("an image of ALLOWED_IMAGES may mount it", async () => {
    const withWarm = { ...deps, prisma: { $queryRaw: async () => [] } as unknown as PrismaClient };
    const plan = await placementsFor(withWarm, deployment("runpod/pytorch:2.4"), [A100], null);
    expect(plan.placements).toEqual([{ gpuTypeId: "A100", cache: ro }]);
    expect(plan.skipped).toBeUndefined();
  });
});
