/**
 * Training throughput by model size, method and GPU type: the ROUGH table the estimate starts from (docs/estimate.md
 * shows it whole). Derived, not measured: tokens/s = peak dense BF16 tensor FLOP/s of the GPU (its vendor's
 * datasheet) × a model FLOPs utilisation (MFU) ÷ FLOPs per trained token (8 × parameters: forward 2N, backward
 * through the frozen weights 4N, and the forward again that activation checkpointing recomputes 2N). MFU 0.30 for
 * LoRA in bf16 is the low end of what published fine-tuning runs report; QLoRA dequantizes each 4-bit weight on
 * every use: 0.6 × LoRA's. Once enough runs of a combination have finished, their measured median replaces this.
 */
export type Method = "lora" | "qlora";

/** peak dense BF16 tensor TFLOP/s (no sparsity), per the vendors' datasheets; keys match RunPod's GPU type ids */
export const GPU_BF16_TFLOPS: Record<string, number> = {
  "NVIDIA H200": 989,
  "NVIDIA H100 80GB HBM3": 989,
  "NVIDIA H100 NVL": 835,
  "NVIDIA H100 PCIe": 756,
  "NVIDIA A100-SXM4-80GB": 312,
  "NVIDIA A100 80GB PCIe": 312,
  "NVIDIA L40S": 362,
  "NVIDIA L40": 181,
  "NVIDIA RTX 6000 Ada Generation": 364,
  "NVIDIA RTX A6000": 155,
  "NVIDIA A40": 150,
  "NVIDIA GeForce RTX 4090": 165,
  "NVIDIA GeForce RTX 3090": 71,
  "NVIDIA L4": 121,
  "NVIDIA B200": 2250,
  "NVIDIA GeForce RTX 5090": 209,
  "NVIDIA RTX A5000": 111,
  "AMD Instinct MI300X OAM": 1307,
};
/** a GPU type missing from the list: an A40's figure (a mid-range card, so the estimate errs long) */
export const UNKNOWN_GPU_TFLOPS = 150;
export const MFU: Record<Method, number> = { lora: 0.3, qlora: 0.18 };
export const FLOPS_PER_PARAMETER_TOKEN = 8;

/** Model size buckets (parameters, upper bounds) and the size each bucket's figure is computed at. */
export const SIZE_BUCKETS = [
  { name: "<=1B", upTo: 1.5e9, at: 1e9 },
  { name: "1-4B", upTo: 4.5e9, at: 3.5e9 },
  { name: "4-9B", upTo: 9.5e9, at: 8e9 },
  { name: "9-16B", upTo: 16.5e9, at: 14e9 },
  { name: "16-35B", upTo: 35.5e9, at: 32e9 },
  { name: "35-80B", upTo: 80.5e9, at: 70e9 },
  { name: ">80B", upTo: Infinity, at: 120e9 },
] as const;
export type SizeBucket = (typeof SIZE_BUCKETS)[number]["name"];

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * The parameters of a decoder-only transformer from its config.json (Llama, Mistral, Qwen, Gemma, Phi and their
 * mixtures of experts): embeddings (and an untied head), per layer attention with grouped KV heads and a gated
 * MLP per expert. undefined when the config lacks the sizes.
 */
export function parametersFromConfig(config: Record<string, unknown>): number | undefined {
  const c = (num(config.hidden_size) !== undefined ? config : config.text_config) as
    Record<string, unknown> | undefined;
  if (c === undefined) return undefined;
  const h = num(c.hidden_size);
  const layers = num(c.num_hidden_layers);
  const vocab = num(c.vocab_size);
  if (h === undefined || layers === undefined || vocab === undefined) return undefined;
  const heads = num(c.num_attention_heads) ?? 1;
  const headDim = num(c.head_dim) ?? h / heads;
  const kv = (num(c.num_key_value_heads) ?? heads) * headDim;
  const inter = num(c.moe_intermediate_size) ?? num(c.intermediate_size) ?? 4 * h;
  const experts = num(c.num_local_experts) ?? num(c.num_experts) ?? 1;
  const attention = h * heads * headDim * 2 + h * kv * 2;
  const mlp = 3 * h * inter * experts;
  const embeddings = vocab * h * (c.tie_word_embeddings === false ? 2 : 1);
  return embeddings + layers * (attention + mlp);
}

/** The parameters a model name states ("Llama-3.1-8B", "qwen2.5-0.5b-instruct", "Mixtral-8x7B"); undefined if none. */
export function parametersFromName(name: string): number | undefined {
  const m = /(?:^|[^a-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([bm])(?![a-z])/i.exec(name);
  if (m === null) return undefined;
  const each = Number(m[2]) * (m[3]?.toLowerCase() === "b" ? 1e9 : 1e6);
  return each * (m[1] !== undefined ? Number(m[1]) : 1);
}

export function sizeBucket(parameters: number): SizeBucket {
  return SIZE_BUCKETS.find((b) => parameters <= b.upTo)?.name ?? ">80B";
}

/** The table's tokens/s for a bucket, method and GPU type (one GPU: the trainer runs one process). */
export function tableTokensPerSecond(bucket: SizeBucket, method: Method, gpuTypeId: string): number {
  const at = SIZE_BUCKETS.find((b) => b.name === bucket)?.at ?? 8e9;
  const tflops = GPU_BF16_TFLOPS[gpuTypeId] ?? UNKNOWN_GPU_TFLOPS;
  return Math.round((tflops * 1e12 * MFU[method]) / (FLOPS_PER_PARAMETER_TOKEN * at));
}
