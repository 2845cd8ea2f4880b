import { CreatePodRequestSchema, PodListSchema, PodSchema, costPerHrToMicros } from "./schemas";

const pod = {
  id: "p1",
  name: "trainpod-d1",
  status: "RUNNING",
  cost: 0.74,
  createdAt: "2026-06-01T12:00:00Z",
  startedAt: null,
};

describe("costPerHrToMicros", () => {
  it.each([
    [0, 0n],
    [0.74, 740_000n],
    [0.745, 745_000n],
    [1.1, 1_100_000n],
    [0.1 + 0.2, 300_000n],
    [0.0000005, 1n],
    [0.0000004, 0n],
    [0.0000025, 3n],
    [1e-7, 0n],
    [3.4999995, 3_500_000n],
    [3.4999994, 3_499_999n],
    [12, 12_000_000n],
    [1e21, 10n ** 27n],
  ])("%p USD/h is %p micros (round half up on the decimal form)", (usd, micros) => {
    expect(costPerHrToMicros(usd)).toBe(micros);
  });

  it.each([-0.01, Number.NaN, Number.POSITIVE_INFINITY])("rejects %p", (bad) => {
    expect(() => costPerHrToMicros(bad)).toThrow(RangeError);
  });
});

describe("PodSchema (v2)", () => {
  it("accepts the required fields and keeps unknown ones", () => {
    const parsed = PodSchema.parse({
      ...pod,
      actions: ["stop"],
      gpu: { id: "NVIDIA A40", count: 1 },
      runtime: { uptime: 3, ports: [] },
    });
    expect(parsed.cost).toBe(0.74);
    expect(parsed).toMatchObject({ actions: ["stop"], gpu: { id: "NVIDIA A40", count: 1 }, runtime: { uptime: 3 } });
  });

  it("reads a status it does not know as 'unknown', and a gpu without count as one GPU (issue 32 item 6)", () => {
    expect(PodSchema.parse({ ...pod, status: "SLEEPING" }).status).toBe("unknown");
    expect(PodSchema.parse({ ...pod, gpu: { id: "NVIDIA A40" } }).gpu).toEqual({ id: "NVIDIA A40", count: 1 });
    expect(PodSchema.parse({ ...pod, gpu: { id: "NVIDIA A40", count: 2 } }).gpu?.count).toBe(2);
  });

  it.each([
    ["id", { ...pod, id: undefined }],
    ["status", { ...pod, status: undefined }],
    ["cost", { ...pod, cost: "0.74" }],
    ["createdAt", { ...pod, createdAt: "yesterday" }],
    ["gpu.count", { ...pod, gpu: { id: "NVIDIA A40", count: "1" } }],
  ])("rejects a pod with a bad %s", (path, body) => {
    const result = PodSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("parses a wrapped listing, and refuses a bare array (v1's shape)", () => {
    expect(PodListSchema.parse({ pods: [pod, { ...pod, id: "p2" }] }).pods).toHaveLength(2);
    expect(PodListSchema.safeParse([pod]).success).toBe(false);
  });
});

describe("CreatePodRequestSchema (v2, nested)", () => {
  const input = {
    name: "trainpod-d1",
    image: "runpod/pytorch",
    gpu: { id: "NVIDIA A40", count: 1 },
    env: { A: "1" },
    args: "",
  };

  it("accepts trainpod's fields", () => {
    expect(
      CreatePodRequestSchema.parse({
        ...input,
        cloud: "SECURE",
        disk: 50,
        mounts: { persistent: { size: 20, path: "/workspace" } },
      }),
    ).toMatchObject(input);
  });

  it("rejects v1's flat fields, a second GPU type, and non-string env values", () => {
    expect(CreatePodRequestSchema.safeParse({ ...input, gpuTypeIds: ["x"] }).success).toBe(false);
    expect(CreatePodRequestSchema.safeParse({ ...input, imageName: "x" }).success).toBe(false);
    expect(CreatePodRequestSchema.safeParse({ ...input, gpu: { id: "a", count: 1, fallback: "b" } }).success).toBe(
      false,
    );
    expect(CreatePodRequestSchema.safeParse({ ...input, env: { A: 1 } }).success).toBe(false);
  });
});
