/** Example bodies for the OpenAPI document; the OpenAPI test validates each against its schema. */
const DEPLOYMENT_ID = "8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60";
const DATASET_ID = "3c59dc04-8f2b-4d5e-9a1b-2c3d4e5f6a7b";
const AT = "2026-11-29T06:00:00.000Z";

export const deploymentRequestExample = {
  datasetId: DATASET_ID,
  baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
  hyperparameters: { epochs: 1, learning_rate: 0.0002 },
  gpuTypeIds: ["NVIDIA GeForce RTX 4090", "NVIDIA RTX A5000"],
  gpuCount: 1,
  maxRuntimeMinutes: 120,
  maxCostUsd: "5",
};

export const estimateRequestExample = {
  gpuTypeIds: ["NVIDIA GeForce RTX 4090", "NVIDIA A40"],
  gpuCount: 1,
  maxRuntimeMinutes: 120,
  maxCostUsd: "1",
  expectedRuntimeMinutes: 45,
};

export const estimateExample = {
  priceSource: "trainpod list price table (RunPod's REST API v1 has no price endpoint)",
  gpuCount: 1,
  cloudType: "SECURE",
  gpuTypes: [
    { gpuTypeId: "NVIDIA GeForce RTX 4090", known: true, podHourUsd: "0.690000" },
    { gpuTypeId: "NVIDIA A40", known: true, podHourUsd: "0.400000" },
  ],
  expected: { gpuTypeId: "NVIDIA GeForce RTX 4090", runtimeMinutes: 45, costUsd: "0.517500" },
  worstCase: {
    gpuTypeId: "NVIDIA GeForce RTX 4090",
    runtimeMinutes: 120,
    costUsd: "1.000000",
    uncappedCostUsd: "1.380000",
  },
  costCap: { maxCostUsd: "1.000000", maxRuntimeMinutes: 120, bindingLimit: "maxCostUsd", budgetLastsMinutes: 86 },
  setup: { timeoutMinutes: 20, worstCaseCostUsd: "0.230000" },
};

export const preflightErrorExample = {
  error: {
    code: "PREFLIGHT_FAILED",
    message: "pre-flight checks failed: DATASET_NOT_FOUND, UNKNOWN_GPU_TYPE",
    details: {
      problems: [
        { code: "DATASET_NOT_FOUND", field: "datasetId", message: `dataset ${DATASET_ID} not found` },
        { code: "UNKNOWN_GPU_TYPE", field: "gpuTypeIds.0", message: 'unknown GPU type "NVIDIA GTX 9999"' },
      ],
    },
  },
};

export const errorExample = { error: { code: "NOT_FOUND", message: "deployment not found" } };

export const deploymentExample = {
  id: DEPLOYMENT_ID,
  status: "RUNNING",
  failureReason: null,
  failureMessage: null,
  exitCode: null,
  datasetId: DATASET_ID,
  baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
  hyperparameters: { epochs: 1 },
  gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
  gpuCount: 1,
  cloudType: "SECURE",
  image: "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
  limits: { maxRuntimeMinutes: 120, maxCostUsd: "5.000000", setupTimeoutMinutes: 20 },
  dataCenterIds: [],
  secrets: ["HF_TOKEN"],
  pod: { id: "abc123xyz", gpuTypeId: "NVIDIA GeForce RTX 4090", dataCenterId: "EU-RO-1", costPerHrUsd: "0.690000" },
  hub: { repo: "alice/tinyllama-lora", merged: false, url: null, error: null },
  wandb: null,
  progress: { step: 40, totalSteps: 100, loss: "1.234" },
  phase: { name: "train", state: "progress", done: 40, total: 100, unit: "steps", startedAt: AT },
  timeToFirstStep: { seconds: 41.2, bootSeconds: 12.5 },
  costUsd: "0.034500",
  runpodBill: null,
  runtimeSeconds: 180,
  estimate: null,
  attempts: 1,
  retryOfId: null,
  resume: { attempt: 1, resumeOfId: null, resumedFromStep: null, resumedFromPath: null, autoResumeMaxAttempts: 0 },
  timestamps: {
    createdAt: AT,
    provisioningAt: AT,
    podCreatedAt: AT,
    runningAt: AT,
    trainingStartedAt: AT,
    finishedAt: null,
    podTerminatedAt: null,
    lastHeartbeatAt: AT,
  },
};

export const eventExample = {
  id: "42",
  type: "progress",
  message: null,
  data: { step: 40, totalSteps: 100, loss: 1.234 },
  at: AT,
};

export const datasetExample = {
  id: DATASET_ID,
  name: "support-chats",
  format: "chat",
  rowCount: 1200,
  sizeBytes: 734_003,
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  createdAt: AT,
};

export const runEventExample = { type: "progress", step: 40, totalSteps: 100, loss: 1.234, evalLoss: 1.301, seq: 57 };
export const phaseTimesExample = [
  { name: "setup", seconds: 3.2, ok: true },
  { name: "model_download", seconds: 412.5, ok: true, done: 16_060_000_000, total: 16_060_000_000, unit: "bytes" },
];
export const deploymentWithEventsExample = {
  ...deploymentExample,
  phases: phaseTimesExample,
  events: [eventExample],
};
