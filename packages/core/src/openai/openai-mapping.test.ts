import { Readable } from "node:stream";
import { AppError } from "../errors";
import { mapCreateJob } from "./job-request";
import { jobObject, STATUS_MAP } from "./job-view";
import { openAiDpoRow, OpenAiRowsStream } from "./dpo-rows";
import { openAiError } from "./errors";
import type { Deployment } from "../db";

const FILE = "file-0b5e8a2c-1d3f-4c5b-9e6a-7f8091a2b3c4";
const defaults = { gpuTypeIds: ["NVIDIA A40"] };

function refusal(input: unknown): { param: unknown; code: unknown; message: string } {
  try {
    mapCreateJob(input, defaults);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const d = (err as AppError).details as { param?: unknown; code?: unknown };
    return { param: d.param, code: d.code, message: (err as AppError).message };
  }
  throw new Error("mapCreateJob accepted it");
}

describe("mapCreateJob", () => {
  it("maps OpenAI's fields onto a deployment request, auto leaving trainpod's defaults", () => {
    const { body, extras } = mapCreateJob(
      {
        model: "Qwen/Qwen2.5-0.5B",
        training_file: FILE,
        method: {
          type: "dpo",
          dpo: { hyperparameters: { n_epochs: 3, batch_size: "auto", learning_rate_multiplier: 0.5, beta: 0.2 } },
        },
        seed: 9,
        suffix: "x1",
        metadata: {
          team: "a",
          trainpod_gpu_types: "NVIDIA L4, NVIDIA A40",
          trainpod_max_cost_usd: "3.5",
          trainpod_gpu_count: "2",
        },
        integrations: [{ type: "wandb", wandb: { project: "p", name: "run" } }],
      },
      defaults,
    );
    expect(body).toEqual({
      datasetId: "0b5e8a2c-1d3f-4c5b-9e6a-7f8091a2b3c4",
      baseModel: "Qwen/Qwen2.5-0.5B",
      hyperparameters: { epochs: 3, learning_rate: 1e-4, method: "dpo", dpo_beta: 0.2, seed: 9 },
      gpuTypeIds: ["NVIDIA L4", "NVIDIA A40"],
      gpuCount: 2,
      maxCostUsd: "3.5",
      secrets: ["WANDB_API_KEY"],
      wandb: { project: "p", name: "run" },
    });
    expect(extras).toEqual({
      suffix: "x1",
      metadata: expect.objectContaining({ team: "a" }),
      integrations: [expect.any(Object)],
    });
    const plain = mapCreateJob({ model: "m", training_file: FILE, hyperparameters: { batch_size: 8 } }, defaults).body;
    expect(plain).toMatchObject({
      gpuTypeIds: ["NVIDIA A40"],
      hyperparameters: { batch_size: 8, gradient_accumulation_steps: 1 },
    });
  });

  it("refuses, naming the param, what trainpod cannot honour", () => {
    expect(refusal({ model: "m", training_file: FILE, validation_file: FILE })).toMatchObject({
      param: "validation_file",
      code: "unsupported",
    });
    expect(refusal({ model: "m", training_file: FILE, method: { type: "reinforcement" } })).toMatchObject({
      param: "method.type",
    });
    expect(refusal({ model: "m", training_file: FILE, extra: 1 })).toMatchObject({ param: "extra" });
    expect(refusal({ model: "m", training_file: FILE, metadata: { trainpod_gpus: "x" } })).toMatchObject({
      param: "metadata.trainpod_gpus",
    });
    expect(refusal({ model: "m", training_file: FILE, metadata: { trainpod_gpu_count: "two" } })).toMatchObject({
      param: "metadata.trainpod_gpu_count",
    });
    expect(
      refusal({
        model: "m",
        training_file: FILE,
        hyperparameters: { n_epochs: 2 },
        metadata: { trainpod_hyperparameters: '{"epochs": 3}' },
      }),
    ).toMatchObject({ param: "metadata.trainpod_hyperparameters" });
    expect(
      refusal({
        model: "m",
        training_file: FILE,
        integrations: [{ type: "wandb", wandb: { project: "p", entity: "team" } }],
      }),
    ).toMatchObject({ param: "integrations.0.wandb.entity" });
    expect(
      refusal({
        model: "m",
        training_file: FILE,
        hyperparameters: { n_epochs: 1 },
        method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2 } } },
      }),
    ).toMatchObject({ param: "hyperparameters" });
  });

  it("an unknown file id is NOT_FOUND naming training_file", () => {
    expect(() => mapCreateJob({ model: "m", training_file: "file-abc" }, defaults)).toThrow(
      expect.objectContaining({ code: "NOT_FOUND", details: { param: "training_file" } }),
    );
  });
});

describe("the job object", () => {
  const base = {
    id: "0b5e8a2c-1d3f-4c5b-9e6a-7f8091a2b3c4",
    userId: "u",
    datasetId: "0b5e8a2c-1d3f-4c5b-9e6a-7f8091a2b3c5",
    baseModel: "m",
    createdAt: new Date(1_700_000_000_000),
    finishedAt: null,
    runningAt: null,
    estimatedSeconds: null,
    trainTokens: 1234n,
    failureReason: null,
    failureMessage: null,
    artifactsDeletedAt: null,
    hyperparameters: { epochs: 2, batch_size: 4, gradient_accumulation_steps: 2, learning_rate: 1e-4 },
  };
  it("maps statuses, hyperparameters back, the adapter's name and a failure", () => {
    expect(STATUS_MAP).toEqual({
      QUEUED: "queued",
      PROVISIONING: "running",
      RUNNING: "running",
      SUCCEEDED: "succeeded",
      FAILED: "failed",
      CANCELLED: "cancelled",
    });
    const ok = jobObject({ ...base, status: "SUCCEEDED" } as unknown as Deployment, {
      suffix: "s",
      metadata: null,
      integrations: null,
    });
    expect(ok).toMatchObject({
      id: `ftjob-${base.id}`,
      created_at: 1_700_000_000,
      hyperparameters: { n_epochs: 2, batch_size: 8, learning_rate_multiplier: 0.5 },
      fine_tuned_model: `ft:m:trainpod:s:ftjob-${base.id}`,
      trained_tokens: 1234,
      error: null,
    });
    const failed = jobObject(
      {
        ...base,
        status: "FAILED",
        failureReason: "TRAINING_FAILED",
        failureMessage: "train failed\nTraceback",
      } as unknown as Deployment,
      null,
    );
    expect(failed).toMatchObject({
      status: "failed",
      fine_tuned_model: null,
      error: { code: "training_failed", message: "train failed" },
    });
  });
});

describe("OpenAI's DPO rows", () => {
  const row = {
    input: { messages: [{ role: "user", content: "q" }] },
    preferred_output: [{ role: "assistant", content: "good" }],
    non_preferred_output: [{ role: "assistant", content: "bad" }],
  };
  it("become preference_chat rows; every other line passes byte for byte, line count kept", async () => {
    expect(JSON.parse(openAiDpoRow(JSON.stringify(row)))).toEqual({
      prompt: [{ role: "user", content: "q" }],
      chosen: [{ role: "assistant", content: "good" }],
      rejected: [{ role: "assistant", content: "bad" }],
    });
    const text = `${JSON.stringify(row)}\r\n{"messages":[]}\nnot json "preferred_output"\n${JSON.stringify(row)}`;
    const chunks: Buffer[] = [];
    const source = Readable.from([
      Buffer.from(text.slice(0, 7)),
      Buffer.from(text.slice(7, 40)),
      Buffer.from(text.slice(40)),
    ]);
    for await (const c of source.pipe(new OpenAiRowsStream())) chunks.push(c as Buffer);
    const lines = Buffer.concat(chunks).toString("utf8").split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\{"prompt".*\r$/);
    expect(lines[1]).toBe('{"messages":[]}');
    expect(lines[2]).toBe('not json "preferred_output"');
    expect(JSON.parse(lines[3] ?? "")).toHaveProperty("chosen");
  });
});

describe("OpenAI's error shape", () => {
  it("422 answers 400; the type follows the status; UNAUTHORIZED is invalid_api_key", () => {
    expect(openAiError(422, "UNPROCESSABLE", "m", "p")).toEqual({
      status: 400,
      body: { error: { message: "m", type: "invalid_request_error", param: "p", code: "unprocessable" } },
    });
    expect(openAiError(401, "UNAUTHORIZED", "m").body.error.code).toBe("invalid_api_key");
    expect(openAiError(503, "RUNPOD_UNAVAILABLE", "m").body.error.type).toBe("server_error");
    expect(openAiError(429, "RATE_LIMITED", "m").body.error.type).toBe("rate_limit_error");
  });
});
