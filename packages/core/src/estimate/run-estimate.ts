import { costForSeconds } from "../deployment/cost";
import type { Hyperparameters } from "../deployment/hyperparameters";
import { microsToUsd, usdToMicros } from "../pricing/money";
import type { DatasetTokens } from "./dataset-tokens";
import { stepsPerEpoch, trainExamples } from "./packing";
import {
  parametersFromConfig,
  parametersFromName,
  sizeBucket,
  tableTokensPerSecond,
  type Method,
  type SizeBucket,
} from "./throughput";

/** The trainer's defaults (pod-agent ml/hyperparameters.py) for what shapes the run's tokens and steps. */
export const TRAINER_SHAPE_DEFAULTS = {
  epochs: 1,
  max_seq_length: 1024,
  batch_size: 4,
  gradient_accumulation_steps: 4,
  completion_only_loss: true,
  packing: false,
  eval_fraction: 0,
} as const;

/** The hyperparameters with the trainer's defaults filled in. */
export function shapeOf(hp: Hyperparameters) {
  const d = TRAINER_SHAPE_DEFAULTS;
  return {
    epochs: hp.epochs ?? d.epochs,
    steps: hp.steps,
    maxSeqLength: hp.max_seq_length ?? d.max_seq_length,
    batchSize: hp.batch_size ?? d.batch_size,
    accumulation: hp.gradient_accumulation_steps ?? d.gradient_accumulation_steps,
    completionOnly: hp.completion_only_loss ?? d.completion_only_loss,
    packing: hp.packing ?? d.packing,
    evalFraction: hp.eval_fraction ?? d.eval_fraction,
  };
}

/** Seconds a run bills besides training when no run has measured it: boot and setup, plus the weights' download
 * (2 bytes a parameter at 250 MB/s) and load. ROUGH. */
export function tableOverheadSeconds(parameters: number | undefined): number {
  return Math.round(120 + ((parameters ?? 8e9) * 2) / 250e6);
}

export interface ThroughputChoice {
  tokensPerSecond: number;
  source: "measured" | "table";
  /** finished runs of this model on this GPU type with a measured figure */
  runs: number;
}

export interface TimeInputs {
  tokens: DatasetTokens;
  hyperparameters: Hyperparameters;
  throughput: ThroughputChoice;
  overhead: { seconds: number; source: "measured" | "table"; runs: number };
  /** micro-dollars per hour of the pod expected (the first priced GPU type) */
  podHourMicros: bigint;
  /** the pod's GPUs: one trainer process each (DDP/FSDP), so a step takes batch_size × gpuCount rows */
  gpuCount: number;
  maxCostUsd: string;
  maxRuntimeMinutes: number;
}

/**
 * The run's tokens, steps, time and cost from its dataset's tokens: train rows after the eval split (packed into
 * sequences with packing), steps = ceil(ceil(examples / batch) / accumulation) an epoch, trained tokens =
 * tokens an epoch × epochs (or × steps / steps an epoch when `steps` is given), train time = trained tokens ÷
 * tokens/s, expected time = that + the overhead, cost = expected time × the pod's price, next to the cap.
 */
export function timeAndCost(i: TimeInputs) {
  const s = shapeOf(i.hyperparameters);
  const t = i.tokens;
  const trainRows = trainExamples(t.trainedRows, s.evalFraction);
  const share = t.trainedRows === 0 ? 0 : trainRows / t.trainedRows;
  const examples = t.packedSequences !== null ? Math.max(1, Math.round(t.packedSequences * share)) : trainRows;
  const perEpoch = stepsPerEpoch(examples, s.batchSize * i.gpuCount, s.accumulation);
  const steps = s.steps ?? Math.ceil(s.epochs * perEpoch);
  const epochTokens = Math.round(t.tokens * share);
  const trainedTokens = Math.round(epochTokens * (s.steps !== undefined ? s.steps / perEpoch : s.epochs));
  const trainSeconds = trainedTokens / i.throughput.tokensPerSecond;
  const seconds = Math.ceil(trainSeconds + i.overhead.seconds);
  const costMicros = costForSeconds(i.podHourMicros, seconds);
  const capMicros = usdToMicros(i.maxCostUsd);
  return {
    trainRows,
    examplesPerEpoch: examples,
    stepsPerEpoch: perEpoch,
    steps,
    tokensPerEpoch: epochTokens,
    trainedTokens,
    trainSeconds: Math.round(trainSeconds),
    overheadSeconds: Math.round(i.overhead.seconds),
    seconds,
    costMicros,
    view: {
      tokensPerEpoch: epochTokens,
      trainedTokens,
      steps,
      stepsPerEpoch: perEpoch,
      throughput: i.throughput,
      trainSeconds: Math.round(trainSeconds),
      overhead: { ...i.overhead, seconds: Math.round(i.overhead.seconds) },
      runtimeMinutes: Math.round((seconds / 60) * 10) / 10,
      costUsd: microsToUsd(costMicros),
      /** the run would reach a limit first: the monitor stops it there (and it would not finish) */
      stoppedBy:
        costMicros > capMicros ? "maxCostUsd" : seconds > i.maxRuntimeMinutes * 60 ? "maxRuntimeMinutes" : null,
    },
  };
}

export interface ModelSize {
  parameters: number | null;
  bucket: SizeBucket;
  method: Method;
}

/** The model's size (config.json, else the number in its name; 8B when neither says), its table bucket, and the
 * method: QLoRA when the weights load quantized (the `quantization` hyperparameter), else LoRA. */
export function modelSize(config: Record<string, unknown>, baseModel: string, hp: Hyperparameters = {}): ModelSize {
  const parameters = parametersFromConfig(config) ?? parametersFromName(baseModel) ?? null;
  const quantized = (hp as { quantization?: unknown }).quantization;
  return {
    parameters,
    bucket: sizeBucket(parameters ?? 8e9),
    method: quantized !== undefined && quantized !== null && quantized !== "none" ? "qlora" : "lora",
  };
}

/** Share of linear scaling the table assumes for several GPUs of one pod (ROUGH: DDP's gradient exchange). */
export const MULTI_GPU_SCALING = 0.9;

/** The table's figure (× GPUs × MULTI_GPU_SCALING beyond one) when fewer than the needed runs measured one. */
export function chooseThroughput(
  measured: { median: number | null; runs: number },
  size: ModelSize,
  gpuTypeId: string,
  gpuCount = 1,
): ThroughputChoice {
  if (measured.median !== null && measured.median > 0)
    return { tokensPerSecond: measured.median, source: "measured", runs: measured.runs };
  const one = tableTokensPerSecond(size.bucket, size.method, gpuTypeId);
  const tokensPerSecond = gpuCount > 1 ? Math.round(one * gpuCount * MULTI_GPU_SCALING) : one;
  return { tokensPerSecond, source: "table", runs: measured.runs };
}
