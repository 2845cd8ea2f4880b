import { IMAGE, call, podBody, startSim, type ApiPod, type Problem } from "./helpers";

describe("runpod-sim POST /v2/pods: 422 (contract), 400 (rules), 402, 403, pricing", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 60_000 });
  });
  afterAll(() => sim.close());
  const create = (body: unknown) => call<ApiPod & Problem>(sim.api, "POST", "/pods", body);
  const patch = (body: Record<string, unknown>) => call(sim.url, "PATCH", "/admin/config", body, null);

  it("answers 422 with one errors entry per violation for an unknown field and a wrong type", async () => {
    const res = await create(podBody({ gpuTypeIds: ["NVIDIA A40"], disk: "big" }));
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body).toEqual({
      title: "Unprocessable Entity",
      status: 422,
      detail: expect.any(String),
      errors: ["gpuTypeIds: unknown field", "disk: must be an integer >= 1"],
    });
  });

  it.each<[string, unknown, RegExp]>([
    ["no name", { image: IMAGE, gpu: { id: "NVIDIA A40" } }, /^name: is required/],
    ["no image", { name: "x", gpu: { id: "NVIDIA A40" } }, /^image: is required/],
    ["a bad cloud", podBody({ cloud: "PRIVATE" }), /^cloud: must be one of/],
    ["env that is not a string map", podBody({ env: { A: 1 } }), /^env\.A: must be a string/],
    ["an args array (v1's dockerStartCmd)", podBody({ args: ["bash", "-c", "x"] }), /^args: must be a string/],
    ["gpu.count 0", podBody({}, "NVIDIA A40", 0), /^gpu\.count: must be an integer >= 1/],
    ["an unknown gpu field", podBody({ gpu: { id: "NVIDIA A40", type: "x" } }), /^gpu\.type: unknown field/],
    [
      "a persistent mount under 10 GB",
      podBody({ mounts: { persistent: { size: 5, path: "/workspace" } } }),
      /^mounts\.persistent\.size/,
    ],
    [
      "a malformed CUDA version",
      podBody({ gpu: { id: "NVIDIA A40", allowedCudaVersions: ["12"] } }),
      /allowedCudaVersions\[0\]/,
    ],
    ["an array body", [], /^body: must be a JSON object/],
  ])("answers 422 for %s", async (_label, body, error) => {
    const res = await create(body);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.stringMatching(error)]));
  });

  it.each<[string, unknown, RegExp]>([
    [
      "allowedCudaVersions with minCudaVersion",
      podBody({ gpu: { id: "NVIDIA A40", allowedCudaVersions: ["12.8"], minCudaVersion: "12.4" } }),
      /mutually exclusive/,
    ],
    ["both gpu and cpu", podBody({ cpu: { id: "cpu3c", vcpuCount: 2 } }), /exactly one of gpu or cpu/],
    ["a CPU pod", { name: "c", image: IMAGE, cpu: { id: "cpu3c", vcpuCount: 2 } }, /CPU pods are not supported/],
    ["a templateId", podBody({ templateId: "9x4m2p7v" }), /templates are not supported by the simulator/],
    ["an unknown GPU type", podBody({}, "NVIDIA NOT A GPU 9000"), /does not exist/],
    ["more GPUs than the largest machine", podBody({}, "NVIDIA A40", 9), /exceeds/],
    [
      "a CUDA version no host reports",
      podBody({ gpu: { id: "NVIDIA A40", allowedCudaVersions: ["11.8"] } }),
      /no longer any instances available/,
    ],
    ["only unknown data centers", podBody({ dataCenterIds: ["MARS-1"] }), /no longer any instances available/],
    ["unbalanced quotes in args", podBody({ args: "bash -c 'echo hi" }), /unterminated single quote/],
  ])("answers 400 for %s", async (_label, body, detail) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ title: "Bad Request", status: 400, detail: expect.stringMatching(detail) });
  });

  it("answers 402 while balanceUsd <= 0 and 403 for a forbidden GPU type; both leave no pod", async () => {
    try {
      expect((await patch({ balanceUsd: 0 })).status).toBe(200);
      const broke = await create(podBody());
      expect(broke.status).toBe(402);
      expect(broke.body).toMatchObject({
        title: "Payment Required",
        detail: expect.stringMatching(/^Insufficient balance/),
      });
      await patch({ balanceUsd: 25, forbiddenGpuTypes: ["NVIDIA H200"] });
      const forbidden = await create(podBody({}, "NVIDIA H200"));
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.title).toBe("Forbidden");
      expect((await create(podBody({}, "NVIDIA A40"))).status).toBe(201);
      const listed = (await call<{ pods: ApiPod[] }>(sim.api, "GET", "/pods")).body.pods;
      expect(listed.map((p) => p.gpu.id)).toEqual(["NVIDIA A40"]);
      const stats = (
        await call<{ creates: Record<string, Record<string, number>> }>(sim.url, "GET", "/admin/stats", undefined, null)
      ).body;
      expect(stats.creates["NVIDIA H200"]).toEqual({ "403": 1 });
      expect(stats.creates["NVIDIA A40"]).toMatchObject({ "201": 1 });
    } finally {
      await patch({ balanceUsd: null, forbiddenGpuTypes: [] });
      await call(sim.url, "POST", "/admin/reset", undefined, null);
    }
  });

  it("prices a pod as the cloud's GPU price × count, and accepts every optional field", async () => {
    const community = await create(podBody({ cloud: "COMMUNITY" }, "NVIDIA A100 80GB PCIe"));
    expect([community.status, community.body.cost]).toEqual([201, 1.19]);
    // a network mount names an existing volume in the pod's data centre (issue 28: the spec's NetworkMount)
    const vol = await call<{ id: string }>(sim.api, "POST", "/network-volumes", {
      name: "data",
      size: 10,
      dataCenter: "US-KS-2",
    });
    expect(vol.status).toBe(201);
    const full = await create(
      podBody(
        {
          args: "sleep 1",
          disk: 20,
          env: {},
          ports: [],
          registry: null,
          dataCenterIds: ["US-KS-2"],
          globalNetworking: true,
          startSsh: true,
          startJupyter: true,
          mounts: { network: [{ volumeId: vol.body.id, path: "/data" }] },
        },
        "NVIDIA H100 80GB HBM3",
        2,
      ),
    );
    expect(full.status).toBe(201);
    expect(full.body).toMatchObject({
      cost: 5.98,
      dataCenterId: "US-KS-2",
      globalNetworking: { enabled: true },
      env: { JUPYTER_PASSWORD: expect.any(String) },
    });
    await call(sim.url, "POST", "/admin/reset", undefined, null);
  });
});
