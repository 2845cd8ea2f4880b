import { z } from "zod";
import { AppError } from "../errors";
import { plainString } from "./plain-text";

/**
 * The trainer's hyperparameters (issue 15): names, types, ranges and defaults. The pod agent checks the same rules
 * (pod-agent/trainpod_agent/ml/hyperparameters.py, its HYPERPARAMETERS table); pod-agent/tests/fixtures/
 * hyperparameters.json holds cases both sides must decide alike. Unknown keys are refused. Defaults are the
 * agent's: the API stores what the user sent.
 */
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const moduleName = z.string().regex(/^[A-Za-z0-9_.]{1,100}$/, "a module name like q_proj");
/** transformers' schedules offered (those needing extra arguments or an eval-driven schedule are left out) */
export const LR_SCHEDULERS = [
  "linear",
  "cosine",
  "cosine_with_restarts",
  "polynomial",
  "constant",
  "constant_with_warmup",
  "inverse_sqrt",
] as const;
/** the base model's weights as loaded (bitsandbytes on the pod: nf4 with double quantization, or int8) */
export const QUANTIZATIONS = ["none", "4bit", "8bit"] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];
/** supervised fine-tuning (trl's SFTTrainer) or preference training (trl's DPOTrainer) */
export const TRAINING_METHODS = ["sft", "dpo"] as const;
export type TrainingMethod = (typeof TRAINING_METHODS)[number];
/** how several GPUs train together (gpuCount > 1): data parallel, or the model sharded over them */
export const DISTRIBUTED_STRATEGIES = ["ddp", "fsdp"] as const;
/** the keys that mean something only with another: [key, the other, what it must be] */
const NEEDS = [
  ["eval_steps", "eval_fraction", "an eval set: eval_fraction above 0"],
  ["early_stopping_patience", "eval_fraction", "an eval set: eval_fraction above 0"],
  ["early_stopping_threshold", "early_stopping_patience", "early_stopping_patience"],
] as const;
/** the keys that need another key at one value: [key, the other, its value] */
const NEEDS_VALUE = [["dpo_beta", "method", "dpo"]] as const;
/** the pairs that cannot go together: [key, its value, the other, the other's value, why] */
const CONFLICTS = [
  ["packing", true, "method", "dpo", "trl's DPOTrainer does not pack"],
  ["padding_free", true, "method", "dpo", "trl's DPOTrainer has no padding-free batching"],
  ["merge_adapter", true, "quantization", "4bit", "merge into the unquantized base model after the run"],
  ["merge_adapter", true, "quantization", "8bit", "merge into the unquantized base model after the run"],
  ["merge_adapter", true, "distributed", "fsdp", "the sharded model is not merged; merge the adapter after the run"],
  ["quantization", "4bit", "distributed", "fsdp", "FSDP does not shard bitsandbytes weights here; use ddp"],
  ["quantization", "8bit", "distributed", "fsdp", "FSDP does not shard bitsandbytes weights here; use ddp"],
] as const;
/** what an absent key is (the agent's defaults) for the rules above */
const RULE_DEFAULTS = { method: "sft", quantization: "none" } as const;

export const hyperparametersSchema = z
  .object({
    learning_rate: z.number().min(1e-8).max(1).optional().describe("default 0.0002"),
    epochs: int(1, 100).optional().describe("default 1"),
    steps: int(1, 1_000_000).optional().describe("optimizer steps; when given, overrides epochs"),
    lora_r: int(1, 1024).optional().describe("default 16"),
    lora_alpha: int(1, 4096).optional().describe("default 32"),
    lora_dropout: z.number().min(0).max(0.9).optional().describe("default 0.05"),
    max_seq_length: int(16, 131072).optional().describe("tokens per row, longer rows are cut; default 1024"),
    batch_size: int(1, 1024).optional().describe("per device; default 4"),
    gradient_accumulation_steps: int(1, 1024).optional().describe("default 4"),
    completion_only_loss: z
      .boolean()
      .optional()
      .describe("loss on the assistant turns / completion only; default true"),
    target_modules: z
      .union([z.literal("all-linear"), z.array(moduleName).min(1).max(64)])
      .optional()
      .describe('LoRA target modules; default "all-linear"'),
    merge_adapter: z.boolean().optional().describe("also write merged fp16/bf16 weights to merged/; default false"),
    max_shard_size_mb: z
      .number()
      .min(0.01)
      .max(5120)
      .optional()
      .describe(
        "merged weights: MiB per shard file, each one artifact (at most 5120: ARTIFACT_MAX_BYTES, 5 GiB by default); default 4096",
      ),
    tokenize_num_proc: int(1, 64).optional().describe("processes that tokenize the rows; default min(8, CPUs)"),
    // eval and efficiency (issue 26 items 1 and 2)
    eval_fraction: z
      .number()
      .min(0)
      .max(0.5)
      .optional()
      .describe("share of the rows held out as the eval set (split with seed); default 0: no eval"),
    eval_steps: int(1, 1_000_000).optional().describe("steps between evals; default a tenth of the run's steps"),
    early_stopping_patience: int(1, 1000)
      .optional()
      .describe("evals without a better eval loss that end the run (the best adapter is kept); default off"),
    early_stopping_threshold: z
      .number()
      .min(0)
      .max(10)
      .optional()
      .describe("the least fall of the eval loss that counts as better; default 0"),
    packing: z
      .boolean()
      .optional()
      .describe("trl's best-fit packing of rows into max_seq_length, padding-free; default false"),
    padding_free: z.boolean().optional().describe("each batch's rows end to end, no padding; default false"),
    lr_scheduler: z.enum(LR_SCHEDULERS).optional().describe('learning rate schedule; default "linear"'),
    warmup_ratio: z.number().min(0).max(0.9).optional().describe("share of the steps warming the rate up; default 0"),
    seed: int(0, 4_294_967_295).optional().describe("the trainer's seed and the eval split's; default 42"),
    max_grad_norm: z.number().min(0).max(1000).optional().describe("gradient clipping, 0: none; default 1"),
    // QLoRA and DPO (issue 26 items 3 and 5)
    quantization: z
      .enum(QUANTIZATIONS)
      .optional()
      .describe('load the base model in 4-bit (nf4, double quantization) or 8-bit with bitsandbytes; default "none"'),
    method: z
      .enum(TRAINING_METHODS)
      .optional()
      .describe('"dpo": preference training on a preference dataset ({prompt, chosen, rejected}); default "sft"'),
    dpo_beta: z.number().min(0.001).max(10).optional().describe("DPO's beta; needs method dpo; default 0.1"),
    // multi-GPU (issue 26 item 4): with gpuCount > 1 the pod runs one trainer process per GPU (torchrun)
    distributed: z
      .enum(DISTRIBUTED_STRATEGIES)
      .optional()
      .describe(
        'gpuCount > 1: "ddp" (a model copy per GPU) or "fsdp" (the model sharded over the GPUs); default "ddp"',
      ),
    // checkpoints (issue 27): a later attempt resumes from the last one (POST /v1/deployments/:id/resume)
    checkpoint_every_steps: int(0, 1_000_000)
      .optional()
      .describe("steps between checkpoints; 0: none by steps; default a tenth of the run"),
    checkpoint_every_minutes: z
      .number()
      .min(0.1)
      .max(10_080)
      .optional()
      .describe("minutes between checkpoints; default 30 while checkpoints are on"),
    checkpoints_kept: int(1, 20)
      .optional()
      .describe("the last K checkpoints kept on the pod and in storage; default 2"),
    // read by the simulated ML work (pod-agent ml/simulated.py, the simulator's pods), ignored by the real trainer
    sim_step_ms: int(0, 3_600_000).optional().describe("simulator only: ms per step"),
    sim_fail_at_step: int(0, 1_000_000).optional().describe("simulator only: fail at this step"),
    sim_exit_code: int(0, 255).optional().describe("simulator only: exit code of that failure"),
    sim_error: plainString().max(1000).optional().describe("simulator only: the failure's message"),
    sim_extra_artifact_bytes: int(0, 1_073_741_824)
      .optional()
      .describe("simulator only: also write merged/model.safetensors of this many bytes"),
    sim_model_bytes: int(0, 2e12).optional().describe("simulator only: the base model's size, downloaded"),
    sim_download_bytes_per_s: int(1, 1e11).optional().describe("simulator only: the model download's speed"),
    sim_packages_bytes: int(0, 2e12)
      .optional()
      .describe("simulator only: the trainer's packages, installed (cached on a cache volume: issue 28)"),
    sim_install_bytes_per_s: int(1, 1e11).optional().describe("simulator only: the package install's speed"),
    sim_load_s: z.number().min(0).max(86_400).optional().describe("simulator only: seconds to load the model"),
    sim_rows_per_s: int(1, 1e9).optional().describe("simulator only: rows tokenized a second"),
    sim_tokens_per_s: int(1, 1e9)
      .optional()
      .describe("simulator only: train at this many real tokens a second (a byte-level count: estimate scale model)"),
    sim_silent_s: z
      .number()
      .min(0)
      .max(86_400)
      .optional()
      .describe("simulator only: seconds silent (no event, no log line) before step 1"),
    sim_hang_at_step: int(0, 1_000_000).optional().describe("simulator only: hang (no exit) at this step"),
    sim_output_shards: int(0, 1000).optional().describe("simulator only: merged weight shards written"),
    sim_shard_bytes: int(0, 1e11).optional().describe("simulator only: bytes of each of those shards"),
  })
  .strict()
  .superRefine((hp, ctx) => {
    for (const [key, other, what] of NEEDS)
      if (hp[key] !== undefined && !hp[other]) ctx.addIssue({ code: "custom", message: `needs ${what}`, path: [key] });
    const given = (key: string): unknown =>
      (hp as Record<string, unknown>)[key] ?? (RULE_DEFAULTS as Record<string, unknown>)[key];
    for (const [key, other, value] of NEEDS_VALUE)
      if (hp[key] !== undefined && given(other) !== value)
        ctx.addIssue({ code: "custom", message: `needs ${other} ${value}`, path: [key] });
    for (const [key, value, other, otherValue, why] of CONFLICTS)
      if (given(key) === value && given(other) === otherValue)
        ctx.addIssue({ code: "custom", message: `is not available with ${other} ${otherValue}: ${why}`, path: [key] });
  });

export type Hyperparameters = z.infer<typeof hyperparametersSchema>;

/** A request's training method (absent: "sft"); the dataset formats it trains on are datasetFormatsFor's. */
export function trainingMethod(hp: Hyperparameters | Record<string, unknown> | undefined): TrainingMethod {
  return hp?.method === "dpo" ? "dpo" : "sft";
}

/** A request's quantization (absent: "none"). */
export function quantizationOf(hp: Hyperparameters | Record<string, unknown> | undefined): Quantization {
  const q = hp?.quantization;
  return q === "4bit" || q === "8bit" ? q : "none";
}

/**
 * Bytes of GPU memory per base-model parameter for its weights as loaded (for a memory estimate): bf16 2, int8 1,
 * nf4 with double quantization ~0.52 (4 bits, plus the blocks' absmax constants, themselves quantized: bitsandbytes'
 * blocksize 64 with 8-bit constants in blocks of 256). Activations, the LoRA adapter and its optimizer state come on
 * top.
 */
export function weightBytesPerParameter(hp: Hyperparameters | Record<string, unknown> | undefined): number {
  return { none: 2, "8bit": 1, "4bit": 0.5 + 1 / 64 + 4 / (64 * 256) }[quantizationOf(hp)];
}

/** A request body's hyperparameters, if any, checked: a bad one is UNPROCESSABLE (422) with every problem listed. */
export function assertHyperparameters(body: unknown): void {
  const given =
    typeof body === "object" && body !== null ? (body as { hyperparameters?: unknown }).hyperparameters : undefined;
  if (given === undefined) return;
  const r = hyperparametersSchema.safeParse(given);
  if (r.success) return;
  const problems = r.error.issues.map((i) => ({
    path: ["hyperparameters", ...i.path].join("."),
    message: i.message,
    ...("keys" in i ? { keys: i.keys } : {}),
  }));
  throw new AppError(
    "UNPROCESSABLE",
    `invalid hyperparameters: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`.slice(0, 1000),
    { details: { problems } },
  );
}
