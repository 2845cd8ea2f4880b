import { KEY, call, podBody, startSim, type ApiPod } from "./helpers";

describe("runpod-sim REST v1: pods", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 20 });
  });
  afterAll(() => sim.close());

  it("creates a pod (201) with the spec's Pod fields, and gets it by id", async () => {
    const created = await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "one", env: { A: "1" }, gpuCount: 2 }));
    expect(created.status).toBe(201);
    const pod = created.body;
    expect(pod.id).toMatch(/^[a-z0-9]{14}$/);
    expect(pod).toMatchObject({ name: "one", desiredStatus: "RUNNING", costPerHr: 1.38, adjustedCostPerHr: 1.38, env: { A: "1" }, interruptible: false });
    expect(pod.gpu).toMatchObject({ id: "NVIDIA GeForce RTX 4090", count: 2, displayName: "RTX 4090" });
    expect(pod).toHaveProperty("machineId");
    expect(pod.image).toBe(pod.imageName);
    const got = await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: pod.id, name: "one" });
  });

  it("lists pods as an array, filtered by name, id, desiredStatus, computeType and gpuTypeId", async () => {
    const a = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "filter-a", gpuTypeIds: ["NVIDIA A40"] }))).body;
    const b = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "filter-b", gpuTypeIds: ["NVIDIA RTX A6000"] }))).body;
    const ids = async (query: string): Promise<string[]> => (await call<ApiPod[]>(sim.api, "GET", `/pods${query}`)).body.map((p) => p.id);
    expect(await ids("")).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(await ids("?name=filter-a")).toEqual([a.id]);
    expect(await ids(`?id=${b.id}`)).toEqual([b.id]);
    expect(await ids("?gpuTypeId=NVIDIA%20A40")).toEqual([a.id]);
    expect(await ids("?gpuTypeId=NVIDIA%20A40&gpuTypeId=NVIDIA%20RTX%20A6000")).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(await ids("?computeType=CPU")).toEqual([]);
    expect(await ids("?desiredStatus=RUNNING&name=filter-b")).toEqual([b.id]);
    expect(await ids("?desiredStatus=EXITED&name=filter-b")).toEqual([]);
    expect((await call(sim.api, "GET", "/pods?desiredStatus=SLEEPING")).status).toBe(400);
  });

  it("stops (EXITED) and starts (RUNNING) a pod", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "stopstart" }))).body;
    expect((await call(sim.api, "POST", `/pods/${pod.id}/stop`)).status).toBe(200);
    expect((await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body.desiredStatus).toBe("EXITED");
    expect((await call(sim.api, "POST", `/pods/${pod.id}/start`)).status).toBe(200);
    expect((await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body.desiredStatus).toBe("RUNNING");
  });

  it("terminates with 204; the pod then disappears from get and list; a second DELETE is 400 like the spec", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "doomed" }))).body;
    const del = await call(sim.api, "DELETE", `/pods/${pod.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect((await call(sim.api, "GET", `/pods/${pod.id}`)).status).toBe(404);
    expect((await call<ApiPod[]>(sim.api, "GET", "/pods?name=doomed")).body).toEqual([]);
    const again = await call(sim.api, "DELETE", `/pods/${pod.id}`);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ status: 400, error: expect.stringContaining("invalid pod id") });
    const admin = await call<Array<{ id: string; desiredStatus: string }>>(sim.url, "GET", "/admin/pods", undefined, null);
    expect(admin.body.find((p) => p.id === pod.id)?.desiredStatus).toBe("TERMINATED");
  });

  it("answers 404 with RunPod's error shape for an unknown pod", async () => {
    const res = await call(sim.api, "GET", "/pods/nosuchpod00000");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: expect.stringContaining("not found"), status: 404 });
    expect((await call(sim.api, "POST", "/pods/nosuchpod00000/stop")).status).toBe(400);
  });

  it("answers 401 without a key or with a wrong one", async () => {
    expect((await call(sim.api, "GET", "/pods", undefined, null)).status).toBe(401);
    const wrong = await call(sim.api, "GET", "/pods", undefined, `${KEY}-nope`);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ message: "Unauthorized" });
  });

  it.each<[string, unknown]>([
    ["not JSON", "{nope"],
    ["an array", []],
    ["an unknown GPU type", podBody({ gpuTypeIds: ["NVIDIA NOT A GPU 9000"] })],
    ["no gpuTypeIds for a GPU pod", podBody({ gpuTypeIds: [] })],
    ["gpuCount 0", podBody({ gpuCount: 0 })],
    ["env that is not a string map", podBody({ env: { A: 1 } })],
    ["a dockerStartCmd string", podBody({ dockerStartCmd: "bash -c x" })],
    ["an unknown field", podBody({ gpuTypeId: "NVIDIA A40" })],
    ["a bad cloudType", podBody({ cloudType: "PRIVATE" })],
    ["no imageName", { gpuTypeIds: ["NVIDIA A40"] }],
  ])("answers 400 for a body with %s", async (_label, body) => {
    const res = await call<{ error: string; status: number }>(sim.api, "POST", "/pods", body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), status: 400 });
  });

  it("prices community, spot and multi-GPU pods", async () => {
    const community = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ cloudType: "COMMUNITY", gpuTypeIds: ["NVIDIA A100 80GB PCIe"] }))).body;
    expect(community.costPerHr).toBe(1.19);
    const spot = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ interruptible: true, gpuTypeIds: ["NVIDIA H100 80GB HBM3"], gpuCount: 2 }))).body;
    expect(spot.costPerHr).toBeCloseTo(2.99 * 0.6 * 2, 6);
  });

  it("answers GET /billing/pods as BillingRecords, per pod or per GPU type", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "billed", gpuTypeIds: ["NVIDIA A100-SXM4-80GB"] }))).body;
    await new Promise((r) => setTimeout(r, 300));
    await call(sim.api, "DELETE", `/pods/${pod.id}`);
    const perPod = await call<Array<Record<string, unknown>>>(sim.api, "GET", `/billing/pods?grouping=podId&podId=${pod.id}&bucketSize=hour`);
    expect(perPod.status).toBe(200);
    expect(perPod.body).toEqual([{ podId: pod.id, time: expect.any(String), amount: expect.any(Number), timeBilledMs: expect.any(Number), diskSpaceBilledGb: 20 }]);
    expect(perPod.body[0]?.timeBilledMs).toBeGreaterThanOrEqual(250);
    const perType = await call<Array<Record<string, unknown>>>(sim.api, "GET", "/billing/pods?gpuTypeId=NVIDIA%20A100-SXM4-80GB");
    expect(perType.body.map((r) => r.gpuTypeId)).toEqual(["NVIDIA A100-SXM4-80GB"]);
    expect((await call(sim.api, "GET", "/billing/pods?bucketSize=fortnight")).status).toBe(400);
  });
});
