import { estimateCost, estimateRequestSchema } from "../pricing/estimate";
import { checkRequestRules } from "./preflight";
import { catalogPriceList } from "../pricing/price-list";
import { isPrivateHost, publicUrlProblem } from "./public-url";
import { deploymentRequestSchema } from "./request-schema";

const request = (extra: Record<string, unknown> = {}) =>
  deploymentRequestSchema.parse({
    datasetId: "3c59dc04-8f2b-4d5e-9a1b-2c3d4e5f6a7b",
    baseModel: "m",
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    ...extra,
  });
const sim = { publicUrl: "http://127.0.0.1:8080", simulated: true };
const real = { publicUrl: "https://trainpod.example.com", simulated: false };
const codes = (extra: Record<string, unknown>, ctx = sim) => checkRequestRules(request(extra), ctx).map((p) => p.code);

describe("pre-flight rules", () => {
  it("a sound request has no problem", () => {
    expect(checkRequestRules(request(), sim)).toEqual([]);
    expect(checkRequestRules(request(), real)).toEqual([]);
  });

  it("hub.merged without merge_adapter is a problem (the run would make no merged weights to push)", () => {
    const hub = { repo: "alice/tiny-lora", merged: true };
    expect(codes({ secrets: ["HF_TOKEN"], hub })).toEqual(["HUB_MERGED_NEEDS_MERGE"]);
    expect(codes({ secrets: ["HF_TOKEN"], hub, hyperparameters: { merge_adapter: true } })).toEqual([]);
    expect(codes({ secrets: ["HF_TOKEN"], hub: { repo: "alice/tiny-lora" } })).toEqual([]);
  });

  it("each unknown GPU type is a problem naming its field", () => {
    const problems = checkRequestRules(request({ gpuTypeIds: ["NVIDIA A40", "NVIDIA GTX 9999", "TPU"] }), sim);
    expect(problems.map((p) => [p.code, p.field])).toEqual([
      ["UNKNOWN_GPU_TYPE", "gpuTypeIds.1"],
      ["UNKNOWN_GPU_TYPE", "gpuTypeIds.2"],
    ]);
  });

  it("with RunPod's catalog read, its prices and its GPU types are the ones that count (the table is only the fallback)", () => {
    const catalog = catalogPriceList([
      { id: "NVIDIA A40", price: { secure: 3.6, community: 0.3 } },
      { id: "NVIDIA NEW GPU 2027", price: { secure: 1.0, community: 0.8 } },
    ]);
    const ctx = { ...sim, prices: catalog };
    // a type the catalog lists though the table does not: known; a type only the table knows: unknown
    expect(checkRequestRules(request({ gpuTypeIds: ["NVIDIA NEW GPU 2027"] }), ctx)).toEqual([]);
    expect(checkRequestRules(request({ gpuTypeIds: ["NVIDIA GeForce RTX 4090"] }), ctx).map((p) => p.code)).toEqual([
      "UNKNOWN_GPU_TYPE",
    ]);
    // the catalog's $3.60/h for 20 minutes of setup is $1.20: above a $1 budget (the table's $0.40/h would pass)
    expect(checkRequestRules(request({ gpuTypeIds: ["NVIDIA A40"], maxCostUsd: "1" }), ctx).map((p) => p.code)).toEqual(
      ["BUDGET_BELOW_SETUP"],
    );
    expect(checkRequestRules(request({ gpuTypeIds: ["NVIDIA A40"], maxCostUsd: "1" }), sim)).toEqual([]);
    const est = estimateCost(
      estimateRequestSchema.parse({ gpuTypeIds: ["NVIDIA A40"], maxRuntimeMinutes: 60, maxCostUsd: "100" }),
      catalog,
    );
    expect(est).toMatchObject({
      priceSource: expect.stringContaining("RunPod catalog"),
      expected: { costUsd: "3.600000" },
    });
  });

  it("an empty image is a problem", () => {
    expect(codes({ image: "  " })).toEqual(["IMAGE_MISSING"]);
  });

  it("the budget must cover the setup timeout at the priciest listed type's price", () => {
    // 4090 × 2 = $1.38/h; 20 min = $0.46
    expect(codes({ gpuCount: 2, maxCostUsd: "0.46" })).toEqual([]);
    expect(codes({ gpuCount: 2, maxCostUsd: "0.459999" })).toEqual(["BUDGET_BELOW_SETUP"]);
    expect(codes({ gpuTypeIds: ["NVIDIA A40", "NVIDIA H100 80GB HBM3"], maxCostUsd: "0.5" })).toEqual([
      "BUDGET_BELOW_SETUP",
    ]);
    expect(
      codes({ gpuTypeIds: ["NVIDIA A40", "NVIDIA H100 80GB HBM3"], maxCostUsd: "0.5", setupTimeoutMinutes: 10 }),
    ).toEqual([]);
  });

  it("PUBLIC_URL on localhost is fine on the simulator, a problem with real RunPod", () => {
    expect(codes({}, { publicUrl: "http://localhost:8080", simulated: true })).toEqual([]);
    expect(codes({}, { publicUrl: "http://localhost:8080", simulated: false })).toEqual(["PUBLIC_URL_UNREACHABLE"]);
    expect(publicUrlProblem("ftp://x.example.com", true)).toMatch(/http/);
  });

  it("reports every problem at once", () => {
    expect(
      codes(
        { gpuTypeIds: ["NVIDIA GTX 9999", "NVIDIA GeForce RTX 4090"], image: "", maxCostUsd: "0.01" },
        { publicUrl: "http://10.0.0.5:8080", simulated: false },
      ),
    ).toEqual(["UNKNOWN_GPU_TYPE", "IMAGE_MISSING", "BUDGET_BELOW_SETUP", "PUBLIC_URL_UNREACHABLE"]);
  });

  it.each([
    ["localhost", true],
    ["api.localhost", true],
    ["127.0.0.1", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.32.0.1", false],
    ["192.168.1.10", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["[::1]", true],
    ["fd12:3456::1", true],
    ["myhost", true],
    ["trainpod.example.com", false],
    ["203.0.113.7", false],
    ["[2001:db8::1]", false],
  ])("isPrivateHost(%s) = %s", (host, expected) => {
    expect(isPrivateHost(host)).toBe(expected);
  });
});
