import { PodCreateInputSchema, PodListSchema, PodSchema, costPerHrToMicros } from "./schemas";

const pod = { id: "p1", name: "trainpod-d1", desiredStatus: "RUNNING", costPerHr: 0.74 };

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

describe("PodSchema", () => {
  it("accepts the required fields, keeps unknown ones, and reads costPerHr given as a string", () => {
    const parsed = PodSchema.parse({ ...pod, costPerHr: "0.74", adjustedCostPerHr: 0.69, vcpuCount: 8, gpu: null });
    expect(parsed.costPerHr).toBe(0.74);
    expect(parsed).toMatchObject({ vcpuCount: 8, gpu: null });
  });

  it("normalises env given as KEY=value pairs", () => {
    expect(PodSchema.parse({ ...pod, env: ["A=1", "B=x=y", "C"] }).env).toEqual({ A: "1", B: "x=y", C: "" });
    expect(PodSchema.parse({ ...pod, env: { A: "1" } }).env).toEqual({ A: "1" });
  });

  it.each([
    ["id", { ...pod, id: undefined }],
    ["desiredStatus", { ...pod, desiredStatus: "SLEEPING" }],
    ["costPerHr", { ...pod, costPerHr: "cheap" }],
    ["gpu.count", { ...pod, gpu: { id: "NVIDIA A40" } }],
  ])("rejects a pod with a bad %s", (path, body) => {
    const result = PodSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("parses a listing", () => {
    expect(PodListSchema.parse([pod, { ...pod, id: "p2" }])).toHaveLength(2);
  });
});

describe("PodCreateInputSchema", () => {
  const input = { name: "trainpod-d1", imageName: "runpod/pytorch", gpuTypeIds: ["NVIDIA A40"], env: { A: "1" } };

  it("accepts trainpod's fields", () => {
    expect(PodCreateInputSchema.parse({ ...input, gpuCount: 1, cloudType: "SECURE", ports: ["8888/http"], interruptible: false })).toMatchObject(input);
  });

  it("rejects misspelt fields and non-string env values", () => {
    expect(PodCreateInputSchema.safeParse({ ...input, gpuTypeId: "x" }).success).toBe(false);
    expect(PodCreateInputSchema.safeParse({ ...input, env: { A: 1 } }).success).toBe(false);
  });
});
