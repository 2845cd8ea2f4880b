import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { ESTIMATE_FIXTURES, golden, type Golden, type GoldenRow } from "../../../../test/support/estimate-golden";
import { AppError } from "../errors";
import { countRow } from "./count";
import { jsonlLines } from "./dataset-lines";
import { countDatasetTokens } from "./dataset-tokens";
import { modelChat, readModelFiles, type ModelChat, type ModelFiles } from "./model-files";
import { packedSequences } from "./packing";
import { renderRow, type Json } from "./render";

// Issue 35 item 4, one count: the API's rendering and token counts of the fixture datasets equal the trainer's
// (scripts/estimate-golden.py runs the pod agent's own ml/data.py with transformers on the tiny model's tokenizer
// and wrote golden-*.json), byte for byte and token for token; and the trainer, run again, still writes the same.
const ROOT = path.resolve(__dirname, "../../../..");
const FIXTURES = ESTIMATE_FIXTURES;
const PYTHON = path.join(ROOT, ".venv-trainer/bin/python");

const NAMES = ["chat", "prompt-completion"] as const;
const datasetLines = (g: Golden) => readFileSync(path.join(FIXTURES, g.dataset), "utf8").split("\n");
/** Python's string indices count code points; JavaScript's count UTF-16 units */
const codePoints = (text: string, i: number) => Array.from(text.slice(0, i)).length;

let files: ModelFiles;
let chat: ModelChat;
beforeAll(async () => {
  files = await readModelFiles(path.join(FIXTURES, "tiny-model"));
  chat = modelChat(files);
});

describe.each(NAMES)("the %s fixture, as the trainer makes it", (name) => {
  const g = golden(name);

  it("every row renders to the trainer's bytes, with its assistant spans", () => {
    const lines = datasetLines(g);
    expect(g.rows.length).toBeGreaterThan(4);
    for (const r of g.rows) {
      const rendered = renderRow(chat, JSON.parse(lines[r.line - 1] ?? "") as Record<string, Json>);
      expect({ line: r.line, text: rendered.text }).toEqual({ line: r.line, text: r.text });
      const spans = rendered.spans?.map(([a, b]) => [codePoints(rendered.text, a), codePoints(rendered.text, b)]);
      expect({ line: r.line, spans: spans ?? null }).toEqual({ line: r.line, spans: r.spans });
    }
  });

  it("every row has the trainer's token ids, kept tokens and loss tokens", () => {
    for (const r of g.rows) {
      const ids = chat.tokenizer.encode(r.text, { add_special_tokens: false }).ids;
      expect({ line: r.line, ids }).toEqual({ line: r.line, ids: r.ids });
      const c = countRow(
        chat,
        renderRow(chat, JSON.parse(datasetLines(g)[r.line - 1] ?? "") as Record<string, Json>),
        g.maxSeqLength,
        true,
      );
      expect({ line: r.line, kept: c.kept, loss: c.loss, trained: c.trained }).toEqual({
        line: r.line,
        kept: r.keptTokens,
        loss: r.lossTokens,
        trained: r.hasTarget,
      });
    }
  });

  it("the dataset's totals are the sums of the trainer's rows: tokens, loss, skipped, rows over max_seq_length", async () => {
    const t = await countDatasetTokens(
      chat,
      jsonlLines(Readable.from([readFileSync(path.join(FIXTURES, g.dataset))])),
      { maxSeqLength: g.maxSeqLength, completionOnly: true, packing: false },
      { rowCount: g.rows.length, maxRows: 1000 },
    );
    const trained = g.rows.filter((r) => r.hasTarget);
    const over = g.rows.filter((r) => r.ids.length > g.maxSeqLength);
    const longest = over.reduce<GoldenRow | null>((a, r) => (a === null || r.ids.length > a.ids.length ? r : a), null);
    expect(t).toMatchObject({
      rows: g.rows.length,
      sampled: false,
      trainedRows: trained.length,
      skippedRows: g.rows.length - trained.length,
      tokens: trained.reduce((a, r) => a + r.keptTokens, 0),
      lossTokens: trained.reduce((a, r) => a + r.lossTokens, 0),
      overMaxSeqLength: {
        rows: over.length,
        longestTokens: longest?.ids.length ?? 0,
        longestLine: longest?.line ?? null,
        tokensCut: over.reduce((a, r) => a + r.ids.length - g.maxSeqLength, 0),
      },
    });
    expect(t.overMaxSeqLength.rows).toBeGreaterThan(0);
  });

  const python = existsSync(PYTHON) ? it : it.skip;
  python(
    "the trainer, run again on the checked-in tokenizer, writes the golden file as it is (scripts/estimate-golden.py)",
    () => {
      const out = execFileSync(PYTHON, [path.join(ROOT, "scripts/estimate-golden.py"), name], {
        encoding: "utf8",
        env: { ...process.env, HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" },
      });
      expect(JSON.parse(out)).toEqual(g);
    },
    60_000,
  );
});

it("a template that refuses the system role is a 422 naming the line and the template's message", async () => {
  const refusing = modelChat({
    ...files,
    chatTemplate:
      "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
      "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}",
  });
  const lines = ['{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}', "", ""];
  lines.push(
    '{"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}',
  );
  const err = await countDatasetTokens(
    refusing,
    jsonlLines(Readable.from([Buffer.from(lines.join("\n"))])),
    { maxSeqLength: 64, completionOnly: true, packing: false },
    { rowCount: 2, maxRows: 10 },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe("UNPROCESSABLE");
  expect((err as AppError).message).toBe(
    "dataset line 4: the base model's chat template cannot render the row: System role not supported",
  );
});

it("a sample of a big dataset scales its totals, and its 95% interval holds the exact count", async () => {
  const g = golden("chat");
  const rows = Array.from({ length: 400 }, (_, i) => datasetLines(g)[g.rows[i % g.rows.length]!.line - 1]);
  const run = (maxRows: number, seed: number) => {
    let x = seed;
    const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    return countDatasetTokens(
      chat,
      jsonlLines(Readable.from([Buffer.from(rows.join("\n"))])),
      { maxSeqLength: 128, completionOnly: true, packing: true },
      { rowCount: rows.length, maxRows, random },
    );
  };
  const exact = await run(1000, 1);
  const sample = await run(120, 7);
  expect(exact.sampled).toBe(false);
  expect(sample).toMatchObject({ sampled: true, rows: 400, rowsCounted: 120 });
  expect(sample.tokensInterval[0]).toBeLessThanOrEqual(exact.tokens);
  expect(sample.tokensInterval[1]).toBeGreaterThanOrEqual(exact.tokens);
  expect(sample.tokensInterval[1] - sample.tokensInterval[0]).toBeLessThan(exact.tokens * 0.3);
  expect(Math.abs((sample.packedSequences ?? 0) - (exact.packedSequences ?? 0))).toBeLessThan(
    0.2 * (exact.packedSequences ?? 0),
  );
});

it("packing is best-fit decreasing: each row into the fullest sequence it fits", () => {
  expect(packedSequences([8, 8, 8], 10)).toBe(3);
  expect(packedSequences([6, 5, 4, 3, 2], 10)).toBe(2); // 6+4, 5+3+2
  expect(packedSequences([7, 6, 3, 3, 1], 10)).toBe(2); // 7+3, 6+3+1
  expect(packedSequences([12, 3], 10)).toBe(2); // a row longer than the sequence is cut to it
  expect(packedSequences([], 10)).toBe(0);
});
