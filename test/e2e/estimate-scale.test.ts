import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSystem, type System } from "../support/system";
import { TestClient, type Json } from "./support/client";

// Issue 35 on the simulator's scale model: the API counts the dataset's tokens with the model's own files
// (MODEL_FILES_DIR: a byte-level tokenizer, no chat template, so the trainer's default one), and the simulated
// trainer trains those same tokens (a byte-level count of the same text, ml/simulated.py byte_tokens) at
// sim_tokens_per_s. A first run measures tokens/s and the setup around training; with ESTIMATE_MIN_RUNS=1 the next
// estimate uses them, and the second run lands within 20 % of its estimated time and cost.

/** GPT-2's byte-to-character map: a byte-level BPE without merges makes one token of each UTF-8 byte */
function byteChars(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(bs.includes(b) ? b : 256 + n++);
  return out;
}

function writeByteModel(dir: string, chatTemplate?: string): void {
  mkdirSync(dir, { recursive: true });
  const special = ["<unk>", "<s>", "</s>"];
  const vocab: Record<string, number> = Object.fromEntries(special.map((t, i) => [t, i]));
  byteChars().forEach((c, i) => (vocab[c] = special.length + i));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: special.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: "<unk>", fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  };
  writeFileSync(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  writeFileSync(
    path.join(dir, "tokenizer_config.json"),
    JSON.stringify({ bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" }),
  );
  writeFileSync(
    path.join(dir, "config.json"),
    JSON.stringify({ hidden_size: 64, num_hidden_layers: 2, vocab_size: 259 }),
  );
  if (chatTemplate !== undefined) writeFileSync(path.join(dir, "chat_template.jinja"), chatTemplate);
}

const ROWS = Array.from({ length: 80 }, (_, i) =>
  JSON.stringify({
    messages: [
      ...(i % 3 === 0 ? [{ role: "system", content: "Answer in one sentence." }] : []),
      { role: "user", content: `What colour is thing number ${i}? Say it plainly, please.` },
      { role: "assistant", content: `Thing number ${i} is ${"very ".repeat(i % 7)}red, like a ripe apple in the sun.` },
    ],
  }),
).join("\n");

let sys: System;
let user: TestClient;
let models: string;
let datasetId: string;

beforeAll(async () => {
  models = mkdtempSync(path.join(os.tmpdir(), "trainpod-models-"));
  writeByteModel(path.join(models, "tiny-llama"));
  writeByteModel(
    path.join(models, "trainpod-test", "no-system"),
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
      "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}",
  );
  sys = await startSystem({ env: { MODEL_FILES_DIR: models, ESTIMATE_MIN_RUNS: "1" } });
  user = await TestClient.create(sys, "estimate-scale@example.com");
  const up = await fetch(`${sys.apiUrl}/v1/datasets?name=colours`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.key}`, "content-type": "application/x-ndjson" },
    body: ROWS,
  });
  expect(up.status).toBe(201);
  datasetId = ((await up.json()) as { id: string }).id;
}, 60_000);

afterAll(async () => {
  await sys?.stop();
  rmSync(models, { recursive: true, force: true });
});

const HP = { sim_tokens_per_s: 1000, max_seq_length: 256, batch_size: 4, gradient_accumulation_steps: 2 };

it("a template that refuses system is a 422 naming the row, at estimate and at submission, and no run is created", async () => {
  const body = {
    datasetId,
    baseModel: "trainpod-test/no-system",
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    hyperparameters: HP,
  };
  for (const p of ["/v1/deployments/estimate", "/v1/deployments"]) {
    const r = await user.api("POST", p, body);
    expect({ p, status: r.status, code: r.body.error?.code }).toEqual({ p, status: 422, code: "UNPROCESSABLE" });
    expect(r.body.error.message).toBe(
      "dataset line 1: the base model's chat template cannot render the row: System role not supported",
    );
  }
  expect(await sys.db.prisma.deployment.count({ where: { baseModel: "trainpod-test/no-system" } })).toBe(0);
});

it("on the scale model, the estimate from measured runs is within 20% of the run's time and cost", async () => {
  const submit = (hp: Json) =>
    user.api("POST", "/v1/deployments", {
      datasetId,
      baseModel: "tiny-llama",
      gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
      hyperparameters: hp,
    });
  const first = await submit(HP);
  expect(first.status).toBe(202);
  const calibration = await user.settled(first.body.id, 90_000);
  expect(calibration.status).toBe("SUCCEEDED");
  expect(calibration.estimate.actual.tokensPerSecond).toBeGreaterThan(1000 * 0.8);
  // the pod's count of the tokens it trained is the API's count of the same rows
  expect(calibration.estimate.actual.tokens).toBe(calibration.estimate.estimated.tokens);

  const est = await user.api("POST", "/v1/deployments/estimate", {
    datasetId,
    baseModel: "tiny-llama",
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    hyperparameters: HP,
  });
  expect(est.status).toBe(200);
  expect(est.body.tokens).toMatchObject({ rows: 80, sampled: false, template: "trainer default", skippedRows: 0 });
  expect(est.body.time.throughput).toMatchObject({ source: "measured", runs: 1 });
  expect(est.body.time.overhead).toMatchObject({ source: "measured", runs: 1 });
  expect(est.body.worstCase.costUsd).toBeDefined();

  const second = await submit(HP);
  const run = await user.settled(second.body.id, 90_000);
  expect(run.status).toBe("SUCCEEDED");
  const e = run.estimate;
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} %`;
  // the figures BENCHMARKS.md records (issue 35): estimated vs actual time and cost of the second run
  console.log(
    `estimate vs actual on the scale model: tokens ${e.estimated.tokens} vs ${e.actual.tokens}; ` +
      `runtime ${e.estimated.runtimeSeconds} s vs ${e.actual.runtimeSeconds} s (${pct(e.error.runtime)}); ` +
      `cost $${e.estimated.costUsd} vs $${e.actual.costUsd} (${pct(e.error.cost)}); ` +
      `tokens/s measured ${e.actual.tokensPerSecond}, calibration run ${calibration.estimate.actual.tokensPerSecond}`,
  );
  expect(e.estimated.tokens).toBe(est.body.time.trainedTokens);
  expect(Math.abs(e.estimated.runtimeSeconds - est.body.expected.runtimeMinutes * 60)).toBeLessThanOrEqual(3);
  expect(Math.abs(e.error.runtime)).toBeLessThanOrEqual(0.2);
  expect(Math.abs(e.error.cost)).toBeLessThanOrEqual(0.2);
  const stats = await user.api("GET", "/v1/stats");
  if (stats.status === 200) expect(stats.body.estimates.runs).toBeGreaterThanOrEqual(2);
}, 240_000);
