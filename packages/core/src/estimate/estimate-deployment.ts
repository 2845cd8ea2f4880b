import type { PrismaClient } from "../db";
import { getOwnDataset } from "../datasets/queries";
import type { Hyperparameters } from "../deployment/hyperparameters";
import { AppError } from "../errors";
import { HubError } from "../hub/hub-error";
import { estimateCost, pricedGpuTypes, type CostEstimate, type EstimateRequest } from "../pricing/estimate";
import type { GpuPriceList } from "../pricing/price-list";
import type { BlobStorage } from "../storage";
import { storedDatasetLines } from "./dataset-lines";
import { countDatasetTokens, type DatasetTokens } from "./dataset-tokens";
import { measuredOverheadSeconds, measuredTokensPerSecond } from "./measured";
import { chatFor, type ModelFilesSource } from "./model-source";
import { chooseThroughput, modelSize, shapeOf, tableOverheadSeconds, timeAndCost } from "./run-estimate";

export interface EstimateDeps {
  prisma: PrismaClient;
  /** where datasets live */
  storage: BlobStorage;
  /** the base model's small files (hub with the user's token, or a local folder); none: no token estimate */
  modelFiles: ModelFilesSource;
  /** the user's HF_TOKEN when the request names it among its secrets */
  hubTokenFor?: (userId: string, secretNames: readonly string[]) => Promise<string | undefined>;
  /** rows counted at most; a bigger dataset is sampled (ESTIMATE_MAX_ROWS) */
  maxRows: number;
  /** the reading stops after this long, the rows so far the sample (ESTIMATE_TIME_BUDGET_MS) */
  budgetMs: number;
  /** finished runs of a model and GPU type needed before their median tokens/s replaces the table's (ESTIMATE_MIN_RUNS) */
  minRuns: number;
  now?: () => number;
}

type Request = Pick<
  EstimateRequest,
  "gpuTypeIds" | "gpuCount" | "cloudType" | "maxRuntimeMinutes" | "maxCostUsd" | "setupTimeoutMinutes"
> & {
  expectedRuntimeMinutes?: number;
  datasetId?: string;
  baseModel?: string;
  hyperparameters: Hyperparameters;
  secrets?: string[];
};

function tokensView(t: DatasetTokens, template: "model" | "trainer default") {
  return {
    rows: t.rows,
    rowsCounted: t.rowsCounted,
    sampled: t.sampled,
    confidence: t.sampled ? { level: 0.95, tokensPerEpoch: t.tokensInterval } : null,
    trainedRows: t.trainedRows,
    skippedRows: t.skippedRows,
    tokens: t.tokens,
    lossTokens: t.lossTokens,
    lossShare: t.lossShare,
    overMaxSeqLength: t.overMaxSeqLength,
    packedSequences: t.packedSequences,
    template,
  };
}

/** The dataset's tokens with the model's own template and tokenizer; null when the model's files cannot be had. */
export async function datasetTokensFor(deps: EstimateDeps, userId: string, req: Request) {
  if (req.datasetId === undefined || req.baseModel === undefined) return null;
  // preference rows (method dpo) are rendered otherwise by trl's DPOTrainer: not counted here yet
  if ((req.hyperparameters as { method?: unknown }).method === "dpo") return null;
  const dataset = await getOwnDataset(deps.prisma, userId, req.datasetId);
  const token =
    req.secrets?.includes("HF_TOKEN") && deps.hubTokenFor ? await deps.hubTokenFor(userId, ["HF_TOKEN"]) : undefined;
  let files;
  try {
    files = await deps.modelFiles(req.baseModel, token);
  } catch (err) {
    // the hub not answering is not the request's fault: 503, try again; a refusal or a broken file is a 422
    if (err instanceof HubError && err.kind === "unavailable")
      throw new AppError(
        "HUB_UNAVAILABLE",
        `the model hub did not answer for ${req.baseModel}'s tokenizer files: ${err.message}`,
        { retryable: true },
      );
    throw new AppError("UNPROCESSABLE", `the base model's tokenizer files cannot be read: ${(err as Error).message}`);
  }
  if (files === null) return null;
  const chat = chatFor(files);
  const s = shapeOf(req.hyperparameters);
  const now = deps.now ?? Date.now;
  const tokens = await countDatasetTokens(
    chat,
    storedDatasetLines(deps.storage, dataset.storageKey),
    { maxSeqLength: s.maxSeqLength, completionOnly: s.completionOnly, packing: s.packing },
    { rowCount: dataset.rowCount, maxRows: deps.maxRows, deadlineMs: now() + deps.budgetMs, now },
  );
  return { tokens, files, template: chat.ownTemplate ? ("model" as const) : ("trainer default" as const) };
}

export type DeploymentEstimate = CostEstimate & {
  tokens: ReturnType<typeof tokensView> | null;
  time: ReturnType<typeof timeAndCost>["view"] | null;
  /** what a submission stores on the deployment */
  record: { tokens: number; seconds: number; costMicros: bigint } | null;
};

/**
 * POST /v1/deployments/estimate and the submission's estimate: with a dataset and a base model whose files can be
 * read, the expected runtime and cost come from the dataset's real tokens (time and cost from tokens, issue 35);
 * otherwise from the runtime the request states, as before. The worst case and the cap are always given.
 */
export async function estimateDeployment(
  deps: EstimateDeps,
  userId: string,
  req: Request,
  prices: GpuPriceList,
): Promise<DeploymentEstimate> {
  const base = estimateCost(req, prices);
  const counted = await datasetTokensFor(deps, userId, req);
  const first = pricedGpuTypes(req, prices)[0];
  if (counted === null || first === undefined || req.baseModel === undefined)
    return { ...base, tokens: null, time: null, record: null };
  const size = modelSize(counted.files.config, req.baseModel, req.hyperparameters);
  const [measured, overhead] = await Promise.all([
    measuredTokensPerSecond(
      deps.prisma,
      { ...req, baseModel: req.baseModel, gpuTypeId: first.gpuTypeId },
      deps.minRuns,
    ),
    measuredOverheadSeconds(deps.prisma, req.baseModel, deps.minRuns),
  ]);
  const t = timeAndCost({
    tokens: counted.tokens,
    hyperparameters: req.hyperparameters,
    throughput: chooseThroughput(measured, size, first.gpuTypeId, req.gpuCount),
    overhead:
      overhead.median !== null
        ? { seconds: overhead.median, source: "measured", runs: overhead.runs }
        : { seconds: tableOverheadSeconds(size.parameters ?? undefined), source: "table", runs: 0 },
    podHourMicros: first.podHourMicros,
    gpuCount: req.gpuCount,
    maxCostUsd: req.maxCostUsd,
    maxRuntimeMinutes: req.maxRuntimeMinutes,
  });
  return {
    ...base,
    expected: {
      gpuTypeId: first.gpuTypeId,
      runtimeMinutes: t.view.runtimeMinutes,
      costUsd: t.view.costUsd,
      basis: "tokens" as const,
    } as CostEstimate["expected"],
    model: { parameters: size.parameters, sizeBucket: size.bucket, method: size.method },
    tokens: tokensView(counted.tokens, counted.template),
    time: t.view,
    record: { tokens: t.trainedTokens, seconds: t.seconds, costMicros: t.costMicros },
  } as DeploymentEstimate;
}
