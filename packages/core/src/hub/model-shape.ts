/**
 * A decoder model's shape, from its config.json (transformers' names; GPT-2's older names too): what the memory
 * estimate needs beyond the parameter count. Multimodal configs (Gemma 3, Llama 4, Mistral 3) keep the language
 * model's under `text_config`, which is read when present. Pure.
 */
export interface ModelShape {
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  tiedEmbeddings: boolean;
  /** the dtype the weights are stored in (config.json's torch_dtype or dtype), when it says */
  dtype?: string;
}

type Json = Record<string, unknown>;

const num = (c: Json, ...keys: string[]): number | undefined => {
  for (const k of keys) {
    const v = c[k];
    if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
  }
  return undefined;
};

/** The shape a config.json gives, or null when it lacks what the estimate needs (then only the weights count). */
export function modelShape(config: unknown): ModelShape | null {
  if (typeof config !== "object" || config === null) return null;
  const outer = config as Json;
  const c = typeof outer.text_config === "object" && outer.text_config !== null ? (outer.text_config as Json) : outer;
  const hiddenSize = num(c, "hidden_size", "n_embd", "d_model");
  const layers = num(c, "num_hidden_layers", "n_layer", "num_layers");
  const heads = num(c, "num_attention_heads", "n_head");
  const vocabSize = num(c, "vocab_size") ?? num(outer, "vocab_size");
  if (hiddenSize === undefined || layers === undefined || heads === undefined || vocabSize === undefined) return null;
  const intermediateSize = num(c, "intermediate_size", "n_inner", "ffn_dim") ?? 4 * hiddenSize;
  const kvHeads = num(c, "num_key_value_heads") ?? heads;
  const headDim = num(c, "head_dim") ?? hiddenSize / heads;
  const tied = c.tie_word_embeddings ?? outer.tie_word_embeddings;
  const dtype = c.torch_dtype ?? c.dtype ?? outer.torch_dtype ?? outer.dtype;
  return {
    hiddenSize,
    intermediateSize,
    layers,
    heads,
    kvHeads,
    headDim,
    vocabSize,
    // transformers' default is tied; Llama's and most decoders' configs say false
    tiedEmbeddings: tied === undefined ? true : tied === true,
    dtype: typeof dtype === "string" ? dtype : undefined,
  };
}

/** A decoder layer's linear modules (Llama's names, what "all-linear" means for it): [input size, output size]. */
export function linearModules(s: ModelShape): Record<string, [number, number]> {
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  return {
    q_proj: [s.hiddenSize, q],
    k_proj: [s.hiddenSize, kv],
    v_proj: [s.hiddenSize, kv],
    o_proj: [q, s.hiddenSize],
    gate_proj: [s.hiddenSize, s.intermediateSize],
    up_proj: [s.hiddenSize, s.intermediateSize],
    down_proj: [s.intermediateSize, s.hiddenSize],
  };
}

/** Parameters of the decoder layers' linear modules, all layers (what 4-bit and 8-bit quantize). */
export function linearParameters(s: ModelShape): number {
  const perLayer = Object.values(linearModules(s)).reduce((n, [i, o]) => n + i * o, 0);
  return perLayer * s.layers;
}

/** Parameters counted from the shape (when the hub gives no safetensors count): layers, norms, embeddings, head. */
export function shapeParameters(s: ModelShape): number {
  const norms = (2 * s.layers + 1) * s.hiddenSize;
  const embeddings = s.vocabSize * s.hiddenSize * (s.tiedEmbeddings ? 1 : 2);
  return linearParameters(s) + norms + embeddings;
}
