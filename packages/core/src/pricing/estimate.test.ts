import { AppError } from "../errors";
import { estimateCost, estimateRequestSchema } from "./estimate";
import { gpuHourlyPriceMicros } from "./gpu-prices";

const est = (body: Record<string, unknown>) => estimateCost(estimateRequestSchema.parse(body));

describe("estimateCost", () => {
  it("expected cost: first listed type × count × expected runtime, exact to the micro-dollar", () => {
    // RTX 4090 Secure $0.69/h × 2 GPUs × 45 min = $1.035
    const e = est({
      gpuTypeIds: ["NVIDIA GeForce RTX 4090", "NVIDIA A40"],
      gpuCount: 2,
      expectedRuntimeMinutes: 45,
      maxRuntimeMinutes: 120,
      maxCostUsd: "100",
    });
    expect(e.expected).toEqual({ gpuTypeId: "NVIDIA GeForce RTX 4090", runtimeMinutes: 45, costUsd: "1.035000" });
    expect(e.gpuTypes).toEqual([
      { gpuTypeId: "NVIDIA GeForce RTX 4090", known: true, podHourUsd: "1.380000" },
      { gpuTypeId: "NVIDIA A40", known: true, podHourUsd: "0.800000" },
    ]);
  });

  it("worst case: the priciest listed type for maxRuntimeMinutes, capped by maxCostUsd, which then binds", () => {
    // A40 is listed first, but RunPod may hand out the 4090: $0.69/h × 120 min = $1.38 > cap $1
    const e = est({ gpuTypeIds: ["NVIDIA A40", "NVIDIA GeForce RTX 4090"], maxRuntimeMinutes: 120, maxCostUsd: "1" });
    expect(e.worstCase).toEqual({
      gpuTypeId: "NVIDIA GeForce RTX 4090",
      runtimeMinutes: 120,
      costUsd: "1.000000",
      uncappedCostUsd: "1.380000",
    });
    // $1 / $0.69 per hour = 86.9 min → 86 whole minutes
    expect(e.costCap).toEqual({
      maxCostUsd: "1.000000",
      maxRuntimeMinutes: 120,
      bindingLimit: "maxCostUsd",
      budgetLastsMinutes: 86,
    });
    // expected defaults to the max runtime on the first type: $0.40 × 2 h = $0.80
    expect(e.expected.costUsd).toBe("0.800000");
  });

  it("the runtime limit binds when the budget outlasts it; expected runtime never exceeds the max", () => {
    const e = est({ gpuTypeIds: ["NVIDIA A40"], maxRuntimeMinutes: 60, maxCostUsd: "50", expectedRuntimeMinutes: 600 });
    expect(e.costCap.bindingLimit).toBe("maxRuntimeMinutes");
    expect(e.expected).toEqual({ gpuTypeId: "NVIDIA A40", runtimeMinutes: 60, costUsd: "0.400000" });
    expect(e.worstCase.costUsd).toBe("0.400000");
  });

  it("rounds a fraction of a micro-dollar up, never through a float", () => {
    // RTX A2000 $0.12/h for 1 minute = 2000 µ$ exactly; Community RTX 3090 $0.22/h × 7 min = 25666.67 → 25667 µ$
    expect(est({ gpuTypeIds: ["NVIDIA RTX A2000"], maxRuntimeMinutes: 1 }).worstCase.costUsd).toBe("0.002000");
    expect(
      est({ gpuTypeIds: ["NVIDIA GeForce RTX 3090"], cloudType: "COMMUNITY", maxRuntimeMinutes: 7 }).worstCase.costUsd,
    ).toBe("0.025667");
  });

  it("prices Community Cloud from its own column and the setup timeout at the worst price", () => {
    expect(gpuHourlyPriceMicros("NVIDIA GeForce RTX 4090", "COMMUNITY")).toBe(340_000n);
    const e = est({ gpuTypeIds: ["NVIDIA GeForce RTX 4090"], cloudType: "COMMUNITY", setupTimeoutMinutes: 30 });
    expect(e.setup).toEqual({ timeoutMinutes: 30, worstCaseCostUsd: "0.170000" });
  });

  it("unknown types are listed as unknown; with no known type at all it refuses", () => {
    const e = est({ gpuTypeIds: ["NVIDIA GTX 9999", "NVIDIA A40"] });
    expect(e.gpuTypes[0]).toEqual({ gpuTypeId: "NVIDIA GTX 9999", known: false, podHourUsd: null });
    expect(e.expected.gpuTypeId).toBe("NVIDIA A40");
    expect(() => est({ gpuTypeIds: ["NVIDIA GTX 9999"] })).toThrow(AppError);
  });
});
