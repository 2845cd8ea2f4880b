import { checkSpendRules } from "../deployment/spend-rules";
import { deploymentRequestSchema } from "../deployment/request-schema";
import { overBudget } from "./budget";
import { monthStart } from "./month-spend";
import { imageAllowed, type SpendSettings } from "./settings";
import { slotShortfall } from "./start-slot";
import { effectiveLimitsOf } from "./user-limits";

const settings: SpendSettings = {
  monthlyBudgetMicros: 100_000_000n,
  onExceed: "block",
  maxLiveDeployments: 2,
  maxGpus: 4,
  allowedImages: ["runpod/*"],
  caps: { maxGpuCount: 8, maxRuntimeMinutes: 600, maxCostMicros: 50_000_000n },
};
const spend = (spentMicros: bigint, liveRemainingMicros: bigint) => ({
  spentMicros,
  liveRemainingMicros,
  liveDeployments: 1,
  holdingPods: 1,
  gpusInUse: 1,
});
const request = (over: Record<string, unknown> = {}) =>
  deploymentRequestSchema.parse({
    datasetId: "0b6f4a52-8d0e-4b8e-9a53-3f1f1f6a2c11",
    baseModel: "m",
    gpuTypeIds: ["NVIDIA A40"],
    ...over,
  });

describe("budgets", () => {
  it("a request fits while spent + live worst case + asked stays within the budget; the figures say by how much it does not", () => {
    const limits = effectiveLimitsOf(settings, null);
    expect(overBudget(limits, spend(60_000_000n, 20_000_000n), 20_000_000n)).toBeNull();
    expect(overBudget(limits, spend(60_000_000n, 20_000_000n), 20_000_001n)).toEqual({
      limitUsd: "100.000000",
      spentUsd: "60.000000",
      liveRemainingUsd: "20.000000",
      requestedUsd: "20.000001",
      availableUsd: "20.000000",
    });
    expect(overBudget(limits, spend(120_000_000n, 0n), 1n)?.availableUsd).toBe("0.000000");
  });

  it("a budget of 0 is no limit; an admin's override wins over the default, null keeps the default", () => {
    expect(
      overBudget({ ...effectiveLimitsOf(settings, null), monthlyBudgetMicros: 0n }, spend(10n ** 15n, 0n), 10n ** 12n),
    ).toBeNull();
    const row = {
      userId: "u",
      monthlyBudgetMicros: 5n,
      onExceed: "STOP" as const,
      maxLiveDeployments: null,
      maxGpus: 1,
      extraImages: ["myorg/*"],
      updatedAt: new Date(),
    };
    expect(effectiveLimitsOf(settings, row)).toEqual({
      monthlyBudgetMicros: 5n,
      onExceed: "stop",
      maxLiveDeployments: 2,
      maxGpus: 1,
      allowedImages: ["runpod/*", "myorg/*"],
    });
  });

  it("the month starts at 00:00 UTC on the 1st", () => {
    expect(monthStart(new Date("2026-12-31T23:59:59.999Z")).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(monthStart(new Date("2027-01-01T00:00:00.000Z")).toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });
});

describe("images and caps", () => {
  it.each([
    ["runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", ["runpod/*"], true],
    ["runpod/pytorch", ["runpod/*"], true],
    ["evil/runpod", ["runpod/*"], false],
    ["docker.io/runpod/pytorch:2", ["runpod/*"], false],
    ["runpod/../evil:1", ["runpod/*"], false],
    ["myorg/trainer:3", ["runpod/*", "myorg/*"], true],
    ["ghcr.io/myorg/trainer:3", ["ghcr.io/myorg/**"], true],
  ])("%s against %j: %s", (image, patterns, allowed) => {
    expect(imageAllowed(image, patterns)).toBe(allowed);
  });

  it("every ceiling is a problem with the limit in its message; the user's GPU limit lowers MAX_GPU_COUNT", () => {
    const limits = { ...effectiveLimitsOf(settings, null), maxGpus: 2 };
    const problems = checkSpendRules(
      request({ gpuCount: 3, maxRuntimeMinutes: 601, maxCostUsd: "50.000001", image: "evil/x:1" }),
      settings,
      limits,
    );
    expect(problems.map((p) => [p.code, p.message])).toEqual([
      ["GPU_COUNT_OVER_LIMIT", "gpuCount 3 is over the limit of 2"],
      ["RUNTIME_OVER_LIMIT", "maxRuntimeMinutes 601 is over the limit of 600"],
      ["COST_OVER_LIMIT", "maxCostUsd 50.000001 is over the limit of 50.000000 per deployment"],
      ["IMAGE_NOT_ALLOWED", 'image "evil/x:1" is not allowed here; allowed: runpod/*'],
    ]);
    expect(checkSpendRules(request({ maxCostUsd: "50" }), settings, limits)).toEqual([]);
    expect(checkSpendRules(request({ gpuCount: 8, image: "evil/x:1" }), undefined, undefined)).toEqual([]);
  });
});

describe("slots", () => {
  const held = (holdingPods: number, gpusInUse: number) => ({ holdingPods, gpusInUse });
  it("a deployment fits when it and every earlier one not started yet fit; no limit, nothing waits", () => {
    const limits = { maxLiveDeployments: 10, maxGpus: 0 };
    expect(slotShortfall(limits, held(0, 0), { count: 9, gpus: 9 }, 1)).toEqual([]);
    expect(slotShortfall(limits, held(1, 1), { count: 9, gpus: 9 }, 1)).toEqual([
      "1 of 10 live deployments",
      "9 earlier deployment(s) of yours wait first",
    ]);
    expect(slotShortfall(limits, held(10, 10), { count: 0, gpus: 0 }, 1)).toEqual(["10 of 10 live deployments"]);
    expect(slotShortfall({ maxLiveDeployments: 0, maxGpus: 0 }, held(500, 900), { count: 99, gpus: 99 }, 8)).toEqual(
      [],
    );
  });
  it("GPUs count the earlier ones' too: a small later deployment does not pass a big earlier one", () => {
    const limits = { maxLiveDeployments: 0, maxGpus: 4 };
    expect(slotShortfall(limits, held(2, 3), { count: 0, gpus: 0 }, 1)).toEqual([]);
    expect(slotShortfall(limits, held(2, 3), { count: 1, gpus: 2 }, 1)).toEqual([
      "3 of 4 GPUs in use, 1 more asked",
      "1 earlier deployment(s) of yours wait first",
    ]);
  });
});
