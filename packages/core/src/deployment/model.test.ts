import { billedSeconds, costForSeconds } from "./cost";
import { deploymentRequestSchema } from "./request-schema";
import { microsToUsd, usdToMicros } from "../pricing/money";
import { sourcesOf, isTerminal } from "./state-machine";

describe("money", () => {
  it("converts USD text to micro-dollars exactly and back", () => {
    expect(usdToMicros("12.5")).toBe(12_500_000n);
    expect(usdToMicros("0.000001")).toBe(1n);
    expect(usdToMicros("7")).toBe(7_000_000n);
    expect(microsToUsd(1_890_000n)).toBe("1.890000");
    expect(microsToUsd(525n)).toBe("0.000525");
  });

  it("bills every started second, rounding up to a whole micro-dollar", () => {
    // $1.89/h for 90 s = $0.04725
    expect(costForSeconds(1_890_000n, 90)).toBe(47_250n);
    // one second at $1.89/h = 525 micro-dollars
    expect(costForSeconds(1_890_000n, 1)).toBe(525n);
    // $0.69/h for 1 s = 191.666… → 192
    expect(costForSeconds(690_000n, 1)).toBe(192n);
    expect(costForSeconds(690_000n, 0)).toBe(0n);
    expect(billedSeconds(new Date(0), new Date(1001))).toBe(2);
    expect(billedSeconds(new Date(5000), new Date(1000))).toBe(0);
  });

  it("a failed run with one hour of keep-alive costs what the old start script charged", () => {
    const boot = 60,
      train = 30,
      keepAlive = 3600;
    const trainpod = costForSeconds(1_890_000n, boot + train);
    const old = costForSeconds(1_890_000n, boot + train + keepAlive);
    expect(microsToUsd(trainpod)).toBe("0.047250");
    expect(microsToUsd(old)).toBe("1.937250");
  });
});

describe("deployment request", () => {
  const base = { datasetId: "6f1c3a52-3c0f-4a8e-9a51-0d1bb1f1a001", baseModel: "m", gpuTypeIds: ["NVIDIA A40"] };
  it("fills defaults", () => {
    const r = deploymentRequestSchema.parse(base);
    expect(r).toMatchObject({
      gpuCount: 1,
      cloudType: "SECURE",
      maxCostUsd: "50",
      image: "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
    });
  });
  it("rejects unknown fields, empty GPU lists and float-y money", () => {
    expect(deploymentRequestSchema.safeParse({ ...base, extra: 1 }).success).toBe(false);
    expect(deploymentRequestSchema.safeParse({ ...base, gpuTypeIds: [] }).success).toBe(false);
    expect(deploymentRequestSchema.safeParse({ ...base, maxCostUsd: "1e3" }).success).toBe(false);
    expect(deploymentRequestSchema.safeParse({ ...base, maxCostUsd: -1 }).success).toBe(false);
  });
});

describe("state machine", () => {
  it("knows which statuses reach which", () => {
    expect(sourcesOf("RUNNING")).toEqual(["PROVISIONING"]);
    expect(sourcesOf("CANCELLED").sort()).toEqual(["PROVISIONING", "QUEUED", "RUNNING"]);
    expect(sourcesOf("QUEUED")).toEqual([]);
    expect(isTerminal("FAILED")).toBe(true);
    expect(isTerminal("RUNNING")).toBe(false);
  });
});
