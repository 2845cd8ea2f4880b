import { readFileSync } from "node:fs";
import path from "node:path";

/** The estimate's fixtures: the datasets, the tiny model's files and the golden files (scripts/estimate-golden.py). */
export const ESTIMATE_FIXTURES = path.resolve(__dirname, "../fixtures/estimate");

/** One dataset row as the trainer rendered and tokenized it. */
export interface GoldenRow {
  line: number;
  text: string;
  spans: Array<[number, number]> | null;
  ids: number[];
  keptTokens: number;
  lossTokens: number;
  hasTarget: boolean;
}

/** The trainer's rendering and token counts of one fixture dataset. */
export interface Golden {
  dataset: string;
  maxSeqLength: number;
  rows: GoldenRow[];
}

/** The golden file of a fixture dataset (`chat`, `prompt-completion`). */
export const golden = (name: string): Golden =>
  JSON.parse(readFileSync(path.join(ESTIMATE_FIXTURES, `golden-${name}.json`), "utf8")) as Golden;
