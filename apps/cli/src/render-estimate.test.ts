import { renderDeployment, renderEstimate } from "./render";

const base = {
  priceSource: "table",
  cloudType: "SECURE",
  gpuCount: 1,
  gpuTypes: [{ gpuTypeId: "NVIDIA A40", known: true, podHourUsd: "0.400000" }],
  expected: { gpuTypeId: "NVIDIA A40", runtimeMinutes: 12.5, costUsd: "0.083334" },
  worstCase: { gpuTypeId: "NVIDIA A40", runtimeMinutes: 240, costUsd: "1.600000", uncappedCostUsd: "1.600000" },
  costCap: {
    maxCostUsd: "50.000000",
    maxRuntimeMinutes: 240,
    bindingLimit: "maxRuntimeMinutes",
    budgetLastsMinutes: 7500,
  },
  setup: { timeoutMinutes: 20, worstCaseCostUsd: "0.133334" },
};

it("deploy prints the dataset's tokens, the rows cut, and the time they make before asking", () => {
  const text = renderEstimate({
    ...base,
    tokens: {
      rows: 1000,
      rowsCounted: 200,
      sampled: true,
      confidence: { level: 0.95, tokensPerEpoch: [90_000, 110_000] },
      trainedRows: 990,
      skippedRows: 10,
      tokens: 100_000,
      lossShare: 0.42,
      overMaxSeqLength: { rows: 15, longestTokens: 5000, longestLine: 77, tokensCut: 12_000 },
      packedSequences: null,
      template: "model",
    },
    time: {
      steps: 62,
      trainedTokens: 100_000,
      throughput: { tokensPerSecond: 2500, source: "table", runs: 0 },
      trainSeconds: 40,
      overhead: { seconds: 710, source: "table", runs: 0 },
      stoppedBy: null,
    },
  });
  expect(text).toContain("expected:   $0.083334  (12.5 min on NVIDIA A40)");
  expect(text).toContain(
    "dataset:    100,000 tokens an epoch in 990 rows (a sample of 200 rows; 95%: 90,000-110,000), 42% carry loss (model template)",
  );
  expect(text).toContain("too long:   15 rows over max_seq_length (longest 5,000 tokens, line 77); 12,000 tokens cut");
  expect(text).toContain("skipped:    10 rows with nothing to train on after the cut");
  expect(text).toContain(
    "training:   62 steps, 100,000 tokens at 2,500 tokens/s (table) = 40 s, + 710 s setup (table)",
  );
  expect(renderEstimate(base)).not.toContain("dataset:");
});

it("a finished run shows its estimate beside what it took", () => {
  const d = {
    id: "d1",
    status: "SUCCEEDED",
    baseModel: "m",
    gpuCount: 1,
    gpuTypeIds: ["NVIDIA A40"],
    progress: {},
    limits: { maxCostUsd: "50.000000", maxRuntimeMinutes: 240 },
    costUsd: "0.010000",
    runtimeSeconds: 90,
    estimate: {
      estimated: { tokens: 1000, runtimeSeconds: 100, costUsd: "0.011112" },
      actual: { tokens: 1000, tokensPerSecond: 50, runtimeSeconds: 90, costUsd: "0.010000" },
      error: { tokens: 0, runtime: -0.1, cost: -0.1 },
    },
  };
  expect(renderDeployment(d)).toContain("estimate 100 s $0.011112, actual 90 s $0.01");
});
