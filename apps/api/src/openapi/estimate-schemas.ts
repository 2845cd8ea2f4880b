import { z } from "zod";

/** zod schemas of POST /v1/deployments/estimate's and /validate's answers (issue 35: tokens, time and cost). */
const usd = z
  .string()
  .regex(/^-?\d+\.\d{6}$/)
  .describe("USD as a decimal string with 6 decimals (exact micro-dollars)");
const source = z.enum(["measured", "table"]);

export const datasetTokensSchema = z
  .object({
    rows: z.number().int().describe("the dataset's rows"),
    rowsCounted: z.number().int().describe("the rows rendered and tokenized (fewer than rows: a sample)"),
    sampled: z.boolean(),
    confidence: z
      .object({ level: z.literal(0.95), tokensPerEpoch: z.tuple([z.number().int(), z.number().int()]) })
      .nullable()
      .describe("a sample's 95 % interval of `tokens`; null when every row was counted"),
    trainedRows: z.number().int(),
    skippedRows: z
      .number()
      .int()
      .describe("rows left with no token to train on after the cut (the trainer skips them)"),
    tokens: z.number().int().describe("the kept rows' tokens after the cut at max_seq_length: one epoch"),
    lossTokens: z.number().int(),
    lossShare: z.number().describe("lossTokens / tokens"),
    overMaxSeqLength: z
      .object({
        rows: z.number().int(),
        longestTokens: z.number().int(),
        longestLine: z.number().int().nullable(),
        tokensCut: z.number().int(),
      })
      .describe("rows longer than max_seq_length: how many, the longest (its tokens and line), the tokens cut off"),
    packedSequences: z.number().int().nullable().describe("with packing: the sequences the rows pack into"),
    template: z.enum(["model", "trainer default"]).describe("the model's chat template, or the trainer's default"),
  })
  .describe("the dataset through the base model's own chat template and tokenizer, per epoch before the eval split");

export const runTimeSchema = z
  .object({
    tokensPerEpoch: z.number().int().describe("after the eval split"),
    trainedTokens: z.number().int(),
    steps: z.number().int(),
    stepsPerEpoch: z.number().int(),
    throughput: z.object({ tokensPerSecond: z.number(), source, runs: z.number().int() }),
    trainSeconds: z.number().int(),
    overhead: z.object({ seconds: z.number().int(), source, runs: z.number().int() }),
    runtimeMinutes: z.number(),
    costUsd: usd,
    stoppedBy: z
      .enum(["maxCostUsd", "maxRuntimeMinutes"])
      .nullable()
      .describe("the limit that would stop the run before it finishes; null when it fits"),
  })
  .describe("time and cost from the tokens: trained tokens / tokens per second + overhead, × the pod's price");

export const estimateSchema = z.object({
  priceSource: z.string(),
  gpuCount: z.number().int(),
  cloudType: z.enum(["SECURE", "COMMUNITY"]),
  gpuTypes: z.array(z.object({ gpuTypeId: z.string(), known: z.boolean(), podHourUsd: usd.nullable() })),
  expected: z.object({
    gpuTypeId: z.string(),
    runtimeMinutes: z.number().describe("whole minutes from the stated runtime; to a tenth from tokens"),
    costUsd: usd,
    basis: z.literal("tokens").optional().describe("present when the figures come from the dataset's tokens"),
  }),
  worstCase: z.object({ gpuTypeId: z.string(), runtimeMinutes: z.number().int(), costUsd: usd, uncappedCostUsd: usd }),
  costCap: z.object({
    maxCostUsd: usd,
    maxRuntimeMinutes: z.number().int(),
    bindingLimit: z.enum(["maxCostUsd", "maxRuntimeMinutes"]),
    budgetLastsMinutes: z.number().int().nullable(),
  }),
  setup: z.object({ timeoutMinutes: z.number().int(), worstCaseCostUsd: usd }),
  model: z
    .object({
      parameters: z.number().int().nullable(),
      sizeBucket: z.string(),
      method: z.enum(["lora", "qlora"]),
    })
    .optional()
    .describe("the base model's size (config.json, else its name) and method, for the throughput table"),
  tokens: datasetTokensSchema.nullable().optional().describe("null: the model's files could not be read here"),
  time: runTimeSchema.nullable().optional(),
});

export const validateOkSchema = z.object({
  ok: z.literal(true),
  problems: z.array(z.never()),
  tokens: datasetTokensSchema.optional().describe("as the estimate's, when the base model's files could be read"),
});
