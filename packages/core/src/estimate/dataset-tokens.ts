import { AppError } from "../errors";
import { countRow } from "./count";
import type { ModelChat } from "./model-files";
import { packedSequences } from "./packing";
import { droppedToolCall, renderRow, TemplateError, type Json } from "./render";

/** What the trainer will make of the rows (the hyperparameters that shape it, at the trainer's defaults). */
export interface TokenOptions {
  maxSeqLength: number;
  completionOnly: boolean;
  packing: boolean;
}

/** How much of the dataset to read: every row up to `maxRows`, else a uniform random sample of `maxRows` of them. */
export interface SampleOptions {
  /** the dataset's rows (as its upload counted them) */
  rowCount: number;
  maxRows: number;
  /** stop reading at this time (ms since the epoch): the rows counted so far are the sample */
  deadlineMs?: number;
  now?: () => number;
  random?: () => number;
}

/** The dataset through the model's template and tokenizer: per epoch, before the eval split. */
export interface DatasetTokens {
  rows: number;
  rowsCounted: number;
  /** a sample (rowsCounted of rows) stands for the whole: the figures are scaled, with a 95 % interval */
  sampled: boolean;
  /** the rows the trainer keeps (a row whose cut leaves nothing to train on is skipped) */
  trainedRows: number;
  skippedRows: number;
  /** the kept rows' tokens after the cut at max_seq_length: what one epoch trains on */
  tokens: number;
  /** 95 % confidence interval of `tokens` (equal to it when every row was counted) */
  tokensInterval: [number, number];
  lossTokens: number;
  lossShare: number;
  overMaxSeqLength: { rows: number; longestTokens: number; longestLine: number | null; tokensCut: number };
  /** with packing: the sequences of max_seq_length the kept rows pack into */
  packedSequences: number | null;
}

/** `k` distinct indices of 0..n-1, uniformly (Floyd's algorithm), as a set. */
export function sampleIndices(n: number, k: number, random: () => number = Math.random): Set<number> {
  const out = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    out.add(out.has(t) ? j : t);
  }
  return out;
}

function templateError(line: number, message: string): AppError {
  return new AppError(
    "UNPROCESSABLE",
    `dataset line ${line}: the base model's chat template cannot render the row: ${message}`,
    {
      details: { line, templateMessage: message.slice(0, 1000) },
    },
  );
}

/**
 * Reads the dataset's lines (numbered from 1, empty ones skipped as the trainer does) and counts the chosen ones:
 * rendered with the model's template (an error is a 422 naming the line and the template's message), tokenized,
 * cut at max_seq_length, labels counted. A sample's totals are scaled to the dataset's rows.
 */
export async function countDatasetTokens(
  chat: ModelChat,
  lines: AsyncIterable<{ line: number; text: string }>,
  opts: TokenOptions,
  sample: SampleOptions,
): Promise<DatasetTokens> {
  const now = sample.now ?? Date.now;
  const chosen =
    sample.rowCount > sample.maxRows ? sampleIndices(sample.rowCount, sample.maxRows, sample.random) : null;
  let index = -1;
  let counted = 0;
  let trained = 0;
  let tokens = 0;
  let sumSquares = 0;
  let loss = 0;
  const over = { rows: 0, longestTokens: 0, longestLine: null as number | null, tokensCut: 0 };
  const kept: number[] = [];
  let stoppedEarly = false;
  for await (const { line, text } of lines) {
    index++;
    if (chosen !== null && !chosen.has(index)) continue;
    if (sample.deadlineMs !== undefined && now() > sample.deadlineMs && counted > 0) {
      stoppedEarly = true;
      break;
    }
    const row = JSON.parse(text) as Record<string, Json>;
    let rendered;
    try {
      rendered = renderRow(chat, row);
    } catch (err) {
      if (err instanceof TemplateError) throw templateError(line, err.message);
      throw err;
    }
    const dropped = droppedToolCall(row, rendered);
    if (dropped !== null)
      throw new AppError("UNPROCESSABLE", `dataset line ${line}: ${dropped}`, { details: { line } });
    const c = countRow(chat, rendered, opts.maxSeqLength, opts.completionOnly);
    counted++;
    if (c.tokens > opts.maxSeqLength) {
      over.rows++;
      over.tokensCut += c.tokens - c.kept;
      if (c.tokens > over.longestTokens) Object.assign(over, { longestTokens: c.tokens, longestLine: line });
    }
    const rowTokens = c.trained ? c.kept : 0;
    sumSquares += rowTokens * rowTokens;
    if (!c.trained) continue;
    trained++;
    tokens += c.kept;
    loss += c.loss;
    if (opts.packing) kept.push(c.kept);
  }
  const rows = chosen === null && !stoppedEarly ? counted : sample.rowCount;
  const scale = counted === 0 ? 0 : rows / counted;
  const sampled = scale !== 1;
  const scaled = (x: number) => Math.round(x * scale);
  // the total's standard error from the sample's per-row spread, with the finite-population correction
  const mean = counted === 0 ? 0 : tokens / counted;
  const variance = counted > 1 ? (sumSquares - counted * mean * mean) / (counted - 1) : 0;
  const fpc = rows > 1 ? Math.max(0, (rows - counted) / (rows - 1)) : 0;
  const margin = sampled ? 1.96 * rows * Math.sqrt(Math.max(0, variance) / Math.max(1, counted)) * Math.sqrt(fpc) : 0;
  const total = scaled(tokens);
  return {
    rows,
    rowsCounted: counted,
    sampled,
    trainedRows: scaled(trained),
    skippedRows: rows - scaled(trained),
    tokens: total,
    tokensInterval: [Math.max(0, Math.floor(total - margin)), Math.ceil(total + margin)],
    lossTokens: scaled(loss),
    lossShare: tokens === 0 ? 0 : Math.round((loss / tokens) * 10_000) / 10_000,
    overMaxSeqLength: { ...over, rows: scaled(over.rows), tokensCut: scaled(over.tokensCut) },
    packedSequences: opts.packing ? scaled(packedSequences(kept, opts.maxSeqLength)) : null,
  };
}
