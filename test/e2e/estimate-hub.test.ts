/**
 * Issue 35 through the hub (hubModelFiles), on the simulator with a local fake hub (HF_ENDPOINT): a gated model's
 * config.json, tokenizer.json, tokenizer_config.json and chat_template.jinja (the tiny model's, as the golden files
 * were made with) are fetched with the user's HF_TOKEN, and `POST /v1/deployments/estimate` and `/validate` give the
 * trainer's token counts of the fixture datasets, rows over max_seq_length with their counts; a second estimate asks
 * the hub nothing (cached by model + revision); a Gemma-2-style template that refuses `system` is a 422 naming the
 * row and the template's message at estimate, validate and submit, with no deployment row and no pod.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { createUserWithKey } from "@trainpod/core";
import { estimateSchema, validateOkSchema } from "../../apps/api/src/openapi/estimate-schemas";
import { ESTIMATE_FIXTURES, golden, type Golden, type GoldenRow } from "../support/estimate-golden";
import { FakeHub, llamaConfig } from "../support/fake-hub";
import { startSystem, type System } from "../support/system";
import { CHAT_DATASET, TestClient, uploadDataset, type Json } from "./support/client";

const FIXTURES = ESTIMATE_FIXTURES;
const TINY = path.join(FIXTURES, "tiny-model");
const TOKEN = "hf_estimate_granted_token";
const MODEL = "acme/tiny-gated";
const NO_SYSTEM = "acme/tiny-no-system";
const GPU = "NVIDIA GeForce RTX 4090";
/** Gemma 2's refusal, in its tokenizer_config.json (no chat_template.jinja) */
const GEMMA_STYLE =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
  "<start_of_turn>{{ message['role'] }}\n{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}";

const tiny = (file: string) => readFileSync(path.join(TINY, file), "utf8");
const CONFIG = llamaConfig({ hidden: 64, layers: 2, heads: 4, kvHeads: 4, intermediate: 128, vocab: 300, tied: true });
const hub = new FakeHub()
  .addToken(TOKEN)
  .addRepo({
    id: MODEL,
    gated: "manual",
    allowed: [TOKEN],
    parameters: { BF16: 120_000 },
    files: {
      "config.json": CONFIG,
      "tokenizer.json": tiny("tokenizer.json"),
      "tokenizer_config.json": tiny("tokenizer_config.json"),
      "chat_template.jinja": tiny("chat_template.jinja"),
      "model.safetensors": "weights: never fetched by the API",
    },
  })
  .addRepo({
    id: "acme/tiny-later",
    gated: false,
    parameters: { BF16: 120_000 },
    files: {
      "config.json": CONFIG,
      "tokenizer.json": tiny("tokenizer.json"),
      "tokenizer_config.json": tiny("tokenizer_config.json"),
    },
  })
  .addRepo({
    id: NO_SYSTEM,
    gated: "manual",
    allowed: [TOKEN],
    parameters: { BF16: 120_000 },
    files: {
      "config.json": CONFIG,
      "tokenizer.json": tiny("tokenizer.json"),
      "tokenizer_config.json": JSON.stringify({
        ...(JSON.parse(tiny("tokenizer_config.json")) as Json),
        chat_template: GEMMA_STYLE,
      }),
    },
  });

/** What the estimate's `tokens` must say of a golden file: the trainer's rows, summed. */
function goldenTokens(g: Golden): Json {
  const trained = g.rows.filter((r) => r.hasTarget);
  const over = g.rows.filter((r) => r.ids.length > g.maxSeqLength);
  const longest = over.reduce<GoldenRow | null>((a, r) => (a === null || r.ids.length > a.ids.length ? r : a), null);
  const tokens = trained.reduce((a, r) => a + r.keptTokens, 0);
  const lossTokens = trained.reduce((a, r) => a + r.lossTokens, 0);
  return {
    rows: g.rows.length,
    rowsCounted: g.rows.length,
    sampled: false,
    confidence: null,
    trainedRows: trained.length,
    skippedRows: g.rows.length - trained.length,
    tokens,
    lossTokens,
    lossShare: Math.round((lossTokens / tokens) * 10_000) / 10_000,
    overMaxSeqLength: {
      rows: over.length,
      longestTokens: longest?.ids.length ?? 0,
      longestLine: longest?.line ?? null,
      tokensCut: over.reduce((a, r) => a + r.ids.length - g.maxSeqLength, 0),
    },
    packedSequences: null,
    template: "model",
  };
}

let sys: System;
let user: TestClient;
const email = "estimate-hub@example.com";

const upload = (name: string, body: string) => uploadDataset(sys, user.key, name, body);

beforeAll(async () => {
  await hub.listen();
  sys = await startSystem({ env: { HF_ENDPOINT: hub.base, HUB_TIMEOUT_MS: "5000" } });
  const { key } = await createUserWithKey(sys.db.prisma, { email, role: "USER" });
  user = new TestClient(sys, key, "");
  const set = await user.api("POST", "/v1/secrets", { name: "HF_TOKEN", value: TOKEN });
  expect(set.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await sys?.stop();
  await hub.close();
}, 60_000);

const request = (datasetId: string, baseModel: string, maxSeqLength: number): Json => ({
  datasetId,
  baseModel,
  gpuTypeIds: [GPU],
  maxCostUsd: "5",
  secrets: ["HF_TOKEN"],
  hyperparameters: { max_seq_length: maxSeqLength, steps: 2, sim_step_ms: 20 },
});
const fileRequests = (from: number, repo: string) =>
  hub.requests.slice(from).filter((r) => r.path.startsWith(`/${repo}/resolve/`));
const simPods = async () => ((await (await sys.sim.admin("/admin/pods")).json()) as Json[]).length;

describe.each(["chat", "prompt-completion"])("the %s fixture through the gated model's hub files", (name) => {
  const g = golden(name);

  it("estimate and validate count the trainer's tokens; rows over max_seq_length with their counts", async () => {
    const datasetId = await upload(name, readFileSync(path.join(FIXTURES, g.dataset), "utf8"));
    const body = request(datasetId, MODEL, g.maxSeqLength);
    const expected = goldenTokens(g);
    expect(expected.overMaxSeqLength.rows).toBeGreaterThan(0);

    const est = await user.api("POST", "/v1/deployments/estimate", body);
    expect(est.status).toBe(200);
    expect(est.body.tokens).toEqual(expected);
    expect(est.body.expected).toMatchObject({ gpuTypeId: GPU, basis: "tokens" });
    // the OpenAPI schema names every field of the answer, no more, no fewer (zod drops the keys it does not know)
    expect(estimateSchema.parse(est.body)).toEqual(est.body);

    const v = await user.api("POST", "/v1/deployments/validate", body);
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ ok: true, problems: [] });
    expect(v.body.tokens).toEqual(expected);
    expect(validateOkSchema.parse(v.body)).toEqual(v.body);
  });
});

it("the files came with the user's token, never the weights; a second estimate asks the hub nothing", async () => {
  const files = fileRequests(0, MODEL);
  expect(files.map((r) => r.path.split("/").pop()).sort()).toEqual([
    "chat_template.jinja",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  expect(files.every((r) => r.token === TOKEN)).toBe(true);

  const datasetId = await upload("again", readFileSync(path.join(FIXTURES, "chat.jsonl"), "utf8"));
  const asked = hub.requests.length;
  const again = await user.api("POST", "/v1/deployments/estimate", request(datasetId, MODEL, 128));
  expect(again.status).toBe(200);
  expect(again.body.tokens).toEqual(goldenTokens(golden("chat")));
  expect(hub.requests.slice(asked)).toEqual([]);
});

it("a template that refuses system: 422 naming the row and the message, at estimate, validate and submit; nothing created", async () => {
  // lines 1-2 the chat dataset's, 3 another without `system`, 4 with one
  const rows = [
    {
      messages: [
        { role: "user", content: "sky?" },
        { role: "assistant", content: "blue" },
      ],
    },
    {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "grass?" },
        { role: "assistant", content: "green" },
      ],
    },
  ];
  const datasetId = await upload("with-system", [CHAT_DATASET, ...rows.map((r) => JSON.stringify(r))].join("\n"));
  const pods = await simPods();
  const message = "dataset line 4: the base model's chat template cannot render the row: System role not supported";
  for (const p of ["/v1/deployments/estimate", "/v1/deployments/validate", "/v1/deployments"]) {
    const r = await user.api("POST", p, request(datasetId, NO_SYSTEM, 128));
    expect({ p, status: r.status, error: r.body.error }).toEqual({
      p,
      status: 422,
      error: {
        code: "UNPROCESSABLE",
        message,
        details: { line: 4, templateMessage: "System role not supported" },
      },
    });
  }
  const u = await sys.db.prisma.user.findUniqueOrThrow({ where: { email } });
  expect(await sys.db.prisma.deployment.count({ where: { userId: u.id } })).toBe(0);
  expect(await simPods()).toBe(pods);
  // the same request on a template that renders it is accepted: the refusal was the template's
  const ok = await user.api("POST", "/v1/deployments", request(datasetId, MODEL, 128));
  expect(ok.status).toBe(202);
  await user.api("POST", `/v1/deployments/${ok.body.id as string}/cancel`);
});

it("the hub not answering: the estimate is 503 HUB_UNAVAILABLE (try again), while a submission goes on without it", async () => {
  const datasetId = await upload("hub-down", readFileSync(path.join(FIXTURES, "chat.jsonl"), "utf8"));
  hub.faults = { status: 503 };
  try {
    const est = await user.api("POST", "/v1/deployments/estimate", request(datasetId, "acme/tiny-later", 128));
    expect(est.status).toBe(503);
    expect((est.body.error as Json).code).toBe("HUB_UNAVAILABLE");
    const sub = await user.api("POST", "/v1/deployments", request(datasetId, "acme/tiny-later", 128));
    expect(sub.status).toBe(202);
    await user.api("POST", `/v1/deployments/${sub.body.id as string}/cancel`);
  } finally {
    hub.faults = {};
  }
});
