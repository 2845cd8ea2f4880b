import { NO_CAPACITY_MESSAGE } from "../src/pods";
import { call, podBody, startSim, type ApiPod } from "./helpers";

const RTX = "NVIDIA GeForce RTX 4090";
const A40 = "NVIDIA A40";
const H200 = "NVIDIA H200";

describe("runpod-sim capacity per GPU type", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ capacity: { perType: { [RTX]: 2, [A40]: 3, [H200]: 0 } } });
  });
  afterAll(() => sim.close());
  afterEach(async () => {
    await call(sim.url, "POST", "/admin/reset", undefined, null);
  });

  const create = (body: Record<string, unknown>) => call<ApiPod & { error?: string }>(sim.api, "POST", "/pods", podBody(body));

  it("runs out with RunPod's no-capacity error, and a terminate frees a slot", async () => {
    const first = await create({ gpuTypeIds: [RTX] });
    const second = await create({ gpuTypeIds: [RTX] });
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await create({ gpuTypeIds: [RTX] });
    expect(third.status).toBe(500);
    expect(third.body).toEqual({ error: `create pod: ${NO_CAPACITY_MESSAGE}`, status: 500 });
    expect((await call<ApiPod[]>(sim.api, "GET", "/pods")).body).toHaveLength(2);
    expect((await call(sim.api, "DELETE", `/pods/${first.body.id}`)).status).toBe(204);
    expect((await create({ gpuTypeIds: [RTX] })).status).toBe(201);
  });

  it("counts GPUs, not pods", async () => {
    expect((await create({ gpuTypeIds: [RTX], gpuCount: 3 })).status).toBe(500);
    expect((await create({ gpuTypeIds: [RTX], gpuCount: 2 })).status).toBe(201);
  });

  it("custom priority takes the first listed type with room; availability the one with most room", async () => {
    const custom = await create({ gpuTypeIds: [H200, RTX, A40], gpuTypePriority: "custom" });
    expect(custom.body.gpu?.id).toBe(RTX);
    const byAvailability = await create({ gpuTypeIds: [H200, RTX, A40] });
    expect(byAvailability.body.gpu?.id).toBe(A40);
  });

  it("a stopped pod gives its GPUs back; starting it again needs them", async () => {
    const a = (await create({ gpuTypeIds: [RTX], gpuCount: 2 })).body;
    expect((await call(sim.api, "POST", `/pods/${a.id}/stop`)).status).toBe(200);
    const b = (await create({ gpuTypeIds: [RTX], gpuCount: 2 })).body;
    const start = await call<{ error: string }>(sim.api, "POST", `/pods/${a.id}/start`);
    expect(start.status).toBe(500);
    expect(start.body.error).toMatch(/not enough free GPUs/);
    await call(sim.api, "DELETE", `/pods/${b.id}`);
    expect((await call(sim.api, "POST", `/pods/${a.id}/start`)).status).toBe(200);
  });

  it("is changed at runtime by PATCH /admin/config", async () => {
    expect((await create({ gpuTypeIds: [H200] })).status).toBe(500);
    const patched = await call<{ capacity: unknown }>(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: 1 } }, null);
    expect(patched.status).toBe(200);
    expect((await create({ gpuTypeIds: [H200] })).status).toBe(201);
    expect((await create({ gpuTypeIds: [H200] })).status).toBe(500);
    await call(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: null } }, null);
    expect((await create({ gpuTypeIds: [H200] })).status).toBe(201);
    await call(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: 0 } }, null);
    expect((await call(sim.url, "PATCH", "/admin/config", { capacity: { [H200]: -1 } }, null)).status).toBe(400);
  });
});
