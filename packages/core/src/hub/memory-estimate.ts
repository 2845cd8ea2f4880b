import { linearModules, linearParameters, type ModelShape } from "./model-shape";

/**
 * GPU memory of one LoRA fine-tuning run, as trainpod's trainer runs it (pod-agent ml/real.py, real_train.py): the
 * base model frozen in bf16 (fp32 on a GPU without bf16) or quantized by bitsandbytes, LoRA adapters in fp32 trained
 * with AdamW, activation (gradient) checkpointing always on. The formula, term by term (docs/api.md, "Memory
 * pre-flight"), in bytes, with b = batch_size, s = max_seq_length, h = hidden size, I = intermediate size,
 * kv = key/value heads × head dim, L = layers, V = vocabulary, w = bytes of the load dtype (2 or 4):
 *
 * - weights: P × w; quantized, the decoder layers' linear weights take 0.516 bytes each (4-bit NF4 with double
 *   quantization: 4 bits + 0.127 bits of constants, the QLoRA paper) or 1 byte (8-bit) and the rest (embeddings,
 *   lm_head, norms: bitsandbytes leaves them) stays at w;
 * - LoRA: r × (in + out) parameters per targeted module per layer, 16 bytes each (fp32 weight, its gradient and
 *   AdamW's two moments);
 * - activations: the checkpoint of every layer's input, L × b × s × h × w, plus the one layer recomputed in the
 *   backward pass with its gradients, 2 × b × s × (4h + 2kv + 3I) × w;
 * - logits: b × s × V × (w + 4 + 4): the head's output, its fp32 copy for the loss and that copy's gradient (large
 *   for 128k-token vocabularies);
 * - overhead: 1 GiB (CUDA context, cuBLAS workspaces) + 10 % of the rest (the allocator's fragmentation).
 *
 * Per GPU: with `distributed: "fsdp"` the weights and the LoRA state are sharded over the pod's GPUs (÷ gpuCount);
 * with "ddp" (the default) every GPU holds a whole copy. DPO feeds each row's chosen and rejected answers together:
 * twice the tokens of a batch (the reference model is the base with the adapter off: no second copy).
 *
 * Without the model's shape (a config.json trainpod cannot read) only the weights and overhead count: a lower
 * bound, still safe to refuse on. Pure.
 */
import type { Quantization } from "../deployment/hyperparameters";
export type { Quantization };

export interface MemoryEstimateInput {
  /** the model's parameter count (the hub's safetensors total, else counted from the shape) */
  parameters: number;
  shape: ModelShape | null;
  quantization: Quantization;
  /** bytes of the load dtype: 2 (bf16) or 4 (fp32, on a GPU without bf16) */
  loadBytes: 2 | 4;
  loraR: number;
  targetModules: "all-linear" | readonly string[];
  batchSize: number;
  maxSeqLength: number;
  /** GPUs the weights and LoRA state are sharded over (FSDP); default 1 */
  shards?: number;
  /** sequences each row puts through the model (DPO: chosen and rejected, 2); default 1 */
  sequencesPerRow?: number;
}

/** Per GPU, in bytes. */
export interface MemoryEstimate {
  totalBytes: number;
  weightsBytes: number;
  loraBytes: number;
  activationBytes: number;
  logitsBytes: number;
  overheadBytes: number;
  /** the shape was unknown: weights and overhead only (a lower bound) */
  partial: boolean;
}

export const GIB = 1024 ** 3;
/** 4-bit NF4 with double quantization: 4 bits + 0.127 bits of quantization constants per weight (QLoRA, §3) */
export const NF4_BYTES_PER_WEIGHT = (4 + 0.127) / 8;
const INT8_BYTES_PER_WEIGHT = 1;
/** fp32 adapter weight + fp32 gradient + AdamW's two fp32 moments */
const LORA_BYTES_PER_PARAMETER = 16;
const CUDA_CONTEXT_BYTES = 1 * GIB;
const FRAGMENTATION = 0.1;

/** The trainer's defaults (pod-agent ml/hyperparameters.py) where the request leaves a hyperparameter out. */
export const TRAINER_DEFAULTS = { loraR: 16, batchSize: 4, maxSeqLength: 1024, targetModules: "all-linear" } as const;

export function estimateMemory(x: MemoryEstimateInput): MemoryEstimate {
  const shards = x.shards ?? 1;
  const weightsBytes = weightBytes(x) / shards;
  const s = x.shape;
  const tokens = x.batchSize * x.maxSeqLength * (x.sequencesPerRow ?? 1);
  const lora = s === null ? 0 : loraParameters(s, x.loraR, x.targetModules);
  const loraBytes = (lora * LORA_BYTES_PER_PARAMETER) / shards;
  let activationBytes = 0;
  let logitsBytes = 0;
  if (s !== null) {
    const kv = s.kvHeads * s.headDim;
    const checkpoints = s.layers * tokens * s.hiddenSize * x.loadBytes;
    const recomputed = 2 * tokens * (4 * s.hiddenSize + 2 * kv + 3 * s.intermediateSize) * x.loadBytes;
    activationBytes = checkpoints + recomputed;
    logitsBytes = tokens * s.vocabSize * (x.loadBytes + 4 + 4);
  }
  const work = weightsBytes + loraBytes + activationBytes + logitsBytes;
  const overheadBytes = CUDA_CONTEXT_BYTES + FRAGMENTATION * work;
  return {
    totalBytes: Math.ceil(work + overheadBytes),
    weightsBytes: Math.ceil(weightsBytes),
    loraBytes,
    activationBytes,
    logitsBytes,
    overheadBytes: Math.ceil(overheadBytes),
    partial: s === null,
  };
}

function weightBytes(x: MemoryEstimateInput): number {
  if (x.quantization === "none" || x.shape === null) {
    // without the shape a quantized model's split is unknown: count every weight quantized (a lower bound)
    const perWeight = { none: x.loadBytes, "4bit": NF4_BYTES_PER_WEIGHT, "8bit": INT8_BYTES_PER_WEIGHT }[
      x.quantization
    ];
    return x.parameters * perWeight;
  }
  const linear = Math.min(linearParameters(x.shape), x.parameters);
  const perWeight = x.quantization === "4bit" ? NF4_BYTES_PER_WEIGHT : INT8_BYTES_PER_WEIGHT;
  return linear * perWeight + (x.parameters - linear) * x.loadBytes;
}

/** LoRA's trainable parameters: r × (in + out) for each targeted module of each layer ("all-linear": all seven). */
export function loraParameters(s: ModelShape, r: number, targets: "all-linear" | readonly string[]): number {
  const modules = linearModules(s);
  const names = targets === "all-linear" ? Object.keys(modules) : targets.map((t) => t.split(".").pop() ?? t);
  const perLayer = names.reduce((n, name) => {
    const io = modules[name];
    return io === undefined ? n : n + r * (io[0] + io[1]);
  }, 0);
  return perLayer * s.layers;
}

/** Bytes as GiB with one decimal, rounded up (what messages show). */
export function gib(bytes: number): number {
  return Math.ceil((bytes / GIB) * 10) / 10;
}
