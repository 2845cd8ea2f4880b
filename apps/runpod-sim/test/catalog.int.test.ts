import { call, podBody, startSim, type Problem } from "./helpers";

interface Gpu {
  id: string;
  name: string;
  price: { secure: number; community: number };
  maxCount: { secure: number; community: number };
  availability?: string;
  dataCenters?: Array<{ id: string; name: string; availability: string }>;
}

const RTX = "NVIDIA GeForce RTX 4090";
const A40 = "NVIDIA A40";
const H200 = "NVIDIA H200";

describe("runpod-sim GET /v2/catalog/gpus", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 60_000, capacity: { perType: { [RTX]: 2, [A40]: 5, [H200]: 0 } } });
  });
  afterAll(() => sim.close());
  const catalog = async (query = "") => call<{ gpus: Gpu[] } & Problem>(sim.api, "GET", `/catalog/gpus${query}`);
  const find = (gpus: Gpu[], id: string): Gpu | undefined => gpus.find((g) => g.id === id);

  it("lists GPU types with prices and max counts, and no availability unless asked", async () => {
    const res = await catalog();
    expect(res.status).toBe(200);
    expect(find(res.body.gpus, RTX)).toEqual({
      id: RTX,
      name: "RTX 4090",
      pool: null,
      manufacturer: "NVIDIA",
      memory: 24,
      secure: true,
      community: true,
      price: { secure: 0.69, community: 0.34 },
      maxCount: { secure: 8, community: 4 },
    });
    const one = await call<Gpu>(sim.api, "GET", `/catalog/gpus/${encodeURIComponent(A40)}`);
    expect([one.status, one.body.name]).toEqual([200, "A40"]);
    expect((await call(sim.api, "GET", "/catalog/gpus/NVIDIA%20NOPE")).status).toBe(404);
  });

  it("reports availability from free capacity with include=AVAILABILITY&product=POD, and follows creates", async () => {
    const levels = async () => {
      const gpus = (await catalog("?include=AVAILABILITY&product=POD")).body.gpus;
      return [RTX, A40, H200, "NVIDIA L4"].map((id) => find(gpus, id)?.availability);
    };
    expect(await levels()).toEqual(["LOW", "MEDIUM", "NONE", "HIGH"]);
    const gpus = (await catalog("?include=AVAILABILITY&product=POD")).body.gpus;
    expect(find(gpus, A40)?.dataCenters?.[0]).toEqual({
      id: expect.any(String),
      name: expect.any(String),
      availability: "MEDIUM",
    });
    expect(find(gpus, H200)).not.toHaveProperty("dataCenters");
    expect((await call(sim.api, "POST", "/pods", podBody({}, RTX, 2))).status).toBe(201);
    expect((await call(sim.api, "POST", "/pods", podBody({}, A40, 3))).status).toBe(201);
    expect(await levels()).toEqual(["NONE", "LOW", "NONE", "HIGH"]);
    await call(sim.url, "POST", "/admin/reset", undefined, null);
  });

  it("can be pinned stale by admin config: the catalog says HIGH but the create still answers 400", async () => {
    expect(
      (await call(sim.url, "PATCH", "/admin/config", { catalogAvailability: { [H200]: "HIGH" } }, null)).status,
    ).toBe(200);
    try {
      const h200 = find((await catalog("?include=AVAILABILITY&product=POD")).body.gpus, H200);
      expect(h200?.availability).toBe("HIGH");
      const created = await call<Problem>(sim.api, "POST", "/pods", podBody({}, H200));
      expect(created.status).toBe(400);
      expect(created.body.detail).toMatch(/no longer any instances available/);
    } finally {
      await call(sim.url, "PATCH", "/admin/config", { catalogAvailability: { [H200]: null } }, null);
    }
    expect(
      (await call(sim.url, "PATCH", "/admin/config", { catalogAvailability: { [H200]: "PLENTY" } }, null)).status,
    ).toBe(400);
  });

  it("answers 400 for include without product and product without include, 422 for bad values", async () => {
    const noProduct = await catalog("?include=AVAILABILITY");
    expect([noProduct.status, noProduct.body.title]).toEqual([400, "Bad Request"]);
    expect((await catalog("?product=POD")).status).toBe(400);
    expect((await catalog("?count=2")).status).toBe(400);
    expect((await catalog("?include=PRICES&product=POD")).status).toBe(422);
    expect((await catalog("?include=AVAILABILITY&product=TOASTER")).status).toBe(422);
    expect((await catalog("?include=AVAILABILITY&product=POD&cudaVersions=12.8&minCudaVersion=12")).status).toBe(400);
  });
});
