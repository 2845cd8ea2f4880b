import { estimateMemory, gib, GIB, loraParameters, type MemoryEstimateInput } from "./memory-estimate";
import { fitGpuTypes, gpuMemories } from "./gpu-fit";
import { modelShape, shapeParameters, type ModelShape } from "./model-shape";

// Llama-3-shaped configs as the hub serves them (config.json) with their safetensors parameter counts:
// Llama 3.2 1B, Llama 3.1 8B, Llama 3.1 70B.
const LLAMA = {
  "1B": {
    config: {
      hidden_size: 2048,
      intermediate_size: 8192,
      num_hidden_layers: 16,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 64,
      vocab_size: 128256,
      tie_word_embeddings: true,
      torch_dtype: "bfloat16",
    },
    parameters: 1_235_814_400,
  },
  "8B": {
    config: {
      hidden_size: 4096,
      intermediate_size: 14336,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      vocab_size: 128256,
      tie_word_embeddings: false,
    },
    parameters: 8_030_261_248,
  },
  "70B": {
    config: {
      hidden_size: 8192,
      intermediate_size: 28672,
      num_hidden_layers: 80,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      vocab_size: 128256,
      tie_word_embeddings: false,
    },
    parameters: 70_553_706_496,
  },
} as const;

function shapeOf(size: keyof typeof LLAMA): ModelShape {
  const s = modelShape(LLAMA[size].config);
  if (s === null) throw new Error("no shape");
  return s;
}

function run(size: keyof typeof LLAMA, over: Partial<MemoryEstimateInput> = {}) {
  return estimateMemory({
    parameters: LLAMA[size].parameters,
    shape: shapeOf(size),
    quantization: "none",
    loadBytes: 2,
    loraR: 16,
    targetModules: "all-linear",
    batchSize: 4,
    maxSeqLength: 1024,
    ...over,
  });
}

const totalGiB = (size: keyof typeof LLAMA, over: Partial<MemoryEstimateInput> = {}) => gib(run(size, over).totalBytes);

describe("model shape", () => {
  it("counts a Llama's parameters from its config as the hub's safetensors count does", () => {
    for (const size of ["1B", "8B", "70B"] as const) {
      expect(shapeParameters(shapeOf(size))).toBe(LLAMA[size].parameters);
    }
  });

  it("reads a multimodal config's text_config and GPT-2's names", () => {
    const gemma = modelShape({ text_config: { ...LLAMA["8B"].config }, vision_config: { hidden_size: 1152 } });
    expect(gemma?.hiddenSize).toBe(4096);
    const gpt2 = modelShape({ n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257 });
    expect(gpt2).toMatchObject({ hiddenSize: 768, layers: 12, intermediateSize: 3072, kvHeads: 12, headDim: 64 });
    expect(modelShape({ model_type: "unknown" })).toBeNull();
  });
});

describe("LoRA parameters", () => {
  it("matches PEFT's count for Llama 3.1 8B, r=16, all linear layers (41,943,040)", () => {
    expect(loraParameters(shapeOf("8B"), 16, "all-linear")).toBe(41_943_040);
  });

  it("counts only the modules named (q_proj and v_proj: PEFT's 6,815,744 for 8B at r=16)", () => {
    expect(loraParameters(shapeOf("8B"), 16, ["q_proj", "model.layers.0.v_proj"])).toBe(6_815_744);
  });
});

describe("memory estimate per model size (LoRA r=16, batch 4 × 1024 tokens unless said)", () => {
  it("1B: bf16 about 10 GiB, 4-bit less; both fit a 16 GB GPU", () => {
    expect(totalGiB("1B")).toBeCloseTo(10, 0);
    expect(totalGiB("1B", { quantization: "4bit" })).toBeLessThan(totalGiB("1B"));
    expect(totalGiB("1B", { quantization: "4bit" })).toBeLessThan(16);
  });

  it("8B bf16: 15 GiB of weights; at batch 4 it does not fit a 24 GB GPU, at batch 1 it does (not comfortably)", () => {
    expect(gib(run("8B").weightsBytes)).toBeCloseTo(15, 0);
    expect(totalGiB("8B")).toBeGreaterThan(24);
    expect(totalGiB("8B", { batchSize: 1 })).toBeLessThan(24);
    expect(totalGiB("8B", { batchSize: 1 })).toBeGreaterThan(18);
  });

  it("8B 4-bit (QLoRA): about 5.4 GiB of weights, fits a 24 GB GPU at batch 4 and a 16 GB one at batch 1", () => {
    const e = run("8B", { quantization: "4bit" });
    expect(gib(e.weightsBytes)).toBeGreaterThan(5);
    expect(gib(e.weightsBytes)).toBeLessThan(6);
    expect(gib(e.totalBytes)).toBeLessThan(24);
    expect(totalGiB("8B", { quantization: "4bit", batchSize: 1 })).toBeLessThan(16);
  });

  it("70B bf16 needs more than 140 GB: over one 80 GB GPU and over two pooled", () => {
    expect(run("70B").totalBytes).toBeGreaterThan(140e9);
    expect(gib(run("70B").weightsBytes)).toBeGreaterThan(130);
  });

  it("70B 4-bit: 40-48 GB at batch 1 × 512 (fits a 48 GB GPU); over 48 GiB at batch 4 × 1024", () => {
    const short = totalGiB("70B", { quantization: "4bit", batchSize: 1, maxSeqLength: 512 });
    expect(short * (GIB / 1e9)).toBeGreaterThan(40);
    expect(short).toBeLessThan(48);
    expect(totalGiB("70B", { quantization: "4bit" })).toBeGreaterThan(48);
    expect(totalGiB("70B", { quantization: "4bit" })).toBeLessThan(80);
  });

  it("the logits of a 128k vocabulary dominate an 8B run's activations at long sequences", () => {
    const e = run("8B", { batchSize: 8, maxSeqLength: 4096 });
    expect(e.logitsBytes).toBeGreaterThan(e.activationBytes);
    expect(gib(e.logitsBytes)).toBeCloseTo(39.1, 0);
  });

  it("8-bit sits between 4-bit and bf16; fp32 (no bf16) nearly doubles bf16", () => {
    expect(totalGiB("8B", { quantization: "8bit" })).toBeGreaterThan(totalGiB("8B", { quantization: "4bit" }));
    expect(totalGiB("8B", { quantization: "8bit" })).toBeLessThan(totalGiB("8B"));
    expect(totalGiB("8B", { loadBytes: 4 })).toBeGreaterThan(1.7 * totalGiB("8B"));
  });

  it("FSDP shards the weights and LoRA state over the GPUs; DPO doubles the tokens", () => {
    const one = run("70B");
    const four = run("70B", { shards: 4 });
    expect(four.weightsBytes).toBeCloseTo(one.weightsBytes / 4, -3);
    expect(four.activationBytes).toBe(one.activationBytes);
    expect(run("8B", { sequencesPerRow: 2 }).logitsBytes).toBe(2 * run("8B").logitsBytes);
  });

  it("without the shape counts the weights and overhead only, and says it is partial", () => {
    const e = estimateMemory({ ...run8Input(), shape: null });
    expect(e.partial).toBe(true);
    expect(e.activationBytes + e.logitsBytes + e.loraBytes).toBe(0);
    expect(e.totalBytes).toBeLessThan(run("8B").totalBytes);
  });
});

function run8Input(): MemoryEstimateInput {
  return {
    parameters: LLAMA["8B"].parameters,
    shape: shapeOf("8B"),
    quantization: "none",
    loadBytes: 2,
    loraR: 16,
    targetModules: "all-linear",
    batchSize: 4,
    maxSeqLength: 1024,
  };
}

describe("GPU fit", () => {
  const memories = gpuMemories([{ gpuTypeId: "NVIDIA GeForce RTX 4090", memoryGb: 24 }]);
  const input = { ...run8Input(), shape: shapeOf("70B"), parameters: LLAMA["70B"].parameters };

  it("drops the types that cannot hold the run, keeps those unknown, names the smallest that fits", () => {
    const r = fitGpuTypes(["NVIDIA GeForce RTX 4090", "Some Future GPU"], memories, {
      ...input,
      quantization: "4bit",
    });
    expect(r.kept).toEqual(["Some Future GPU"]);
    expect(r.dropped).toEqual([
      { gpuTypeId: "NVIDIA GeForce RTX 4090", memoryGb: 24, neededGiB: gib(r.estimate.totalBytes) },
    ]);
    expect(r.smallestFitting?.memoryGb).toBe(80);
  });

  it("70B bf16: the smallest NVIDIA type that fits holds more than 140 GB", () => {
    const r = fitGpuTypes(["NVIDIA H100 80GB HBM3"], memories, input);
    expect(r.kept).toEqual([]);
    expect(r.smallestFitting).toEqual({ gpuTypeId: "NVIDIA B200", memoryGb: 180 });
  });

  it("a GPU without bf16 (V100) needs the fp32 estimate", () => {
    const small = { ...run8Input(), shape: shapeOf("1B"), parameters: LLAMA["1B"].parameters, batchSize: 3 };
    const r = fitGpuTypes(["Tesla V100-PCIE-16GB", "NVIDIA RTX A4000"], memories, { ...small, maxSeqLength: 2048 });
    expect(gib(r.estimate.totalBytes)).toBeLessThan(16);
    expect(r.kept).toEqual(["NVIDIA RTX A4000"]);
    expect(r.dropped.map((d) => d.gpuTypeId)).toEqual(["Tesla V100-PCIE-16GB"]);
  });
});
