import { NO_CAPACITY_MESSAGE } from "../src/pods";
import { call, podBody, startSim, type ApiPod, type Problem } from "./helpers";

const RTX = "NVIDIA GeForce RTX 4090";
const H200 = "NVIDIA H200";

describe("runpod-sim capacity per GPU type (one create places one type, no fallback)", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ capacity: { perType: { [RTX]: 2, [H200]: 0 } } });
  });
  afterAll(() => sim.close());
  afterEach(async () => {
    await call(sim.url, "POST", "/admin/reset", undefined, null);
  });

  const create = (gpuId: string, count = 1) =>
    call<ApiPod & Problem>(sim.api, "POST", "/pods", podBody({}, gpuId, count));
  const act = (id: string, action: string) => call<ApiPod & Problem>(sim.api, "POST", `/pods/${id}/action`, { action });

  it("runs out with 400 and RunPod's no-capacity detail; a terminate frees a slot", async () => {
    const first = await create(RTX);
    expect([first.status, (await create(RTX)).status]).toEqual([201, 201]);
    const third = await create(RTX);
    expect(third.status).toBe(400);
    expect(third.body).toEqual({
      title: "Bad Request",
      status: 400,
      detail: expect.stringContaining(NO_CAPACITY_MESSAGE),
    });
    expect((await call<{ pods: ApiPod[] }>(sim.api, "GET", "/pods")).body.pods).toHaveLength(2);
    expect((await call(sim.api, "DELETE", `/pods/${first.body.id}`)).status).toBe(204);
    expect((await create(RTX)).status).toBe(201);
    const stats = (
      await call<{ creates: Record<string, Record<string, number>> }>(sim.url, "GET", "/admin/stats", undefined, null)
    ).body;
    expect(stats.creates[RTX]).toEqual({ "201": 3, "400": 1 });
  });

  it("counts GPUs, not pods", async () => {
    expect((await create(RTX, 3)).status).toBe(400);
    expect((await create(RTX, 2)).status).toBe(201);
  });

  it("a stopped pod gives its GPUs back; starting it again needs them (400 while they are taken)", async () => {
    const a = (await create(RTX, 2)).body;
    expect((await act(a.id, "stop")).status).toBe(200);
    const b = (await create(RTX, 2)).body;
    const start = await act(a.id, "start");
    expect(start.status).toBe(400);
    expect(start.body.detail).toMatch(/not enough free GPUs/);
    await call(sim.api, "DELETE", `/pods/${b.id}`);
    expect((await act(a.id, "start")).status).toBe(200);
  });

  it("is changed at runtime by PATCH /admin/config", async () => {
    expect((await create(H200)).status).toBe(400);
    expect((await call(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: 1 } }, null)).status).toBe(200);
    expect((await create(H200)).status).toBe(201);
    expect((await create(H200)).status).toBe(400);
    await call(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: null } }, null);
    expect((await create(H200)).status).toBe(201);
    await call(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: 0 } }, null);
    expect((await call(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: -1 } }, null)).status).toBe(400);
  });
});
