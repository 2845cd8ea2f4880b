/**
 * Issue 33: the official `openai` npm SDK, unmodified, against trainpod on the simulator: a file uploaded, a job
 * created, listed, followed to `succeeded` (its events and checkpoints listed), another cancelled; a bad request in
 * OpenAI's error shape raising the SDK's own error class; the signed webhook received by a local server (first
 * answering 500: retried, each attempt recorded) and verified with the SDK's `client.webhooks.unwrap`.
 */
import http from "node:http";
import OpenAI, { toFile } from "openai";
import { createUserWithKey, webhookSignature } from "@trainpod/core";
import { startSystem, type System } from "../support/system";
import { CHAT_DATASET, until } from "./support/client";

interface Received {
  headers: Record<string, string>;
  body: string;
}

let sys: System;
let client: OpenAI;
let key: string;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
const answers = [500];

beforeAll(async () => {
  sys = await startSystem({
    env: {
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      WEBHOOK_SCAN_INTERVAL_MS: "300",
      WEBHOOK_RETRY_DELAY_MS: "300",
      OPENAI_DEFAULT_GPU_TYPES: "NVIDIA GeForce RTX 4090",
    },
  });
  key = (await createUserWithKey(sys.db.prisma, { email: "openai@example.com", role: "USER" })).key;
  client = new OpenAI({ apiKey: key, baseURL: `${sys.apiUrl}/openai/v1`, maxRetries: 0 });
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
}, 60_000);

afterAll(async () => {
  receiver?.close();
  await sys?.stop();
});

const sim = (hp: Record<string, unknown>) => JSON.stringify(hp);

describe("the OpenAI SDK against trainpod", () => {
  let secret: string;
  let fileId: string;
  let succeeded: OpenAI.FineTuning.FineTuningJob;

  it("registers a webhook endpoint: its whsec_ secret shown once, never again", async () => {
    const endpoint = await client.webhooks.create({
      url: receiverUrl,
      name: "ci",
      event_types: ["fine_tuning.job.succeeded", "fine_tuning.job.cancelled"],
    });
    expect(endpoint).toMatchObject({ object: "webhook_endpoint", url: receiverUrl, name: "ci" });
    expect(endpoint.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    secret = endpoint.signing_secret;
    const again = await client.webhooks.retrieve(endpoint.id);
    expect(again).not.toHaveProperty("signing_secret");
    expect(again.signing_secret_hint).toBe(`whsec_...${secret.slice(-4)}`);
    const stored = await sys.db.prisma.webhookEndpoint.findFirstOrThrow();
    expect(Buffer.from(stored.ciphertext).toString("utf8")).not.toContain(secret.slice(6, 20));
  });

  it("uploads a chat JSONL as a file (multipart, purpose fine-tune); a bad line is a 400 naming it", async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from(CHAT_DATASET), "chat.jsonl"),
      purpose: "fine-tune",
    });
    expect(file).toMatchObject({ object: "file", filename: "chat.jsonl", purpose: "fine-tune", status: "processed" });
    expect(file.id).toMatch(/^file-[0-9a-f-]{36}$/);
    expect(file.bytes).toBe(Buffer.byteLength(CHAT_DATASET));
    fileId = file.id;
    expect((await client.files.retrieve(file.id)).id).toBe(file.id);
    expect((await client.files.list()).data.map((f) => f.id)).toEqual([file.id]);
    const bad = client.files.create({
      file: await toFile(Buffer.from(`${CHAT_DATASET}\n{"messages": "nope"}\n`), "bad.jsonl"),
      purpose: "fine-tune",
    });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(bad).rejects.toMatchObject({ status: 400, param: "file", message: expect.stringMatching(/line 3: /) });
    expect(await sys.db.prisma.dataset.count()).toBe(1);
  });

  it("a bad field is 400 in OpenAI's shape and the SDK's BadRequestError; validation_file is refused, not dropped", async () => {
    const raw = await fetch(`${sys.apiUrl}/openai/v1/fine_tuning/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tiny-llama", training_file: fileId, hyperparameters: { n_epochs: 2, warmup: 1 } }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({
      error: {
        message: expect.stringContaining("warmup"),
        type: "invalid_request_error",
        param: "hyperparameters.warmup",
        code: "validation_failed",
      },
    });
    const validation = client.fineTuning.jobs.create({
      model: "tiny-llama",
      training_file: fileId,
      validation_file: fileId,
    });
    await expect(validation).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(validation).rejects.toMatchObject({ param: "validation_file", code: "unsupported" });
    const epochs = client.fineTuning.jobs.create({
      model: "tiny-llama",
      training_file: fileId,
      hyperparameters: { n_epochs: 1000 },
    });
    await expect(epochs).rejects.toMatchObject({ status: 400, param: "hyperparameters.n_epochs" });
    const anonymous = new OpenAI({ apiKey: "tp_live_nope", baseURL: `${sys.apiUrl}/openai/v1`, maxRetries: 0 });
    await expect(anonymous.fineTuning.jobs.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await sys.db.prisma.deployment.count()).toBe(0);
  });

  it("creates a job, lists it, follows it to succeeded; events and checkpoints in OpenAI's shapes", async () => {
    const job = await client.fineTuning.jobs.create({
      model: "tiny-llama",
      training_file: fileId,
      method: {
        type: "supervised",
        supervised: { hyperparameters: { n_epochs: 1, batch_size: 2, learning_rate_multiplier: 2 } },
      },
      suffix: "demo",
      seed: 7,
      metadata: {
        team: "ml",
        trainpod_eval_fraction: "0.5",
        trainpod_hyperparameters: sim({ steps: 6, sim_step_ms: 50 }),
      },
    });
    expect(job).toMatchObject({
      object: "fine_tuning.job",
      model: "tiny-llama",
      status: "queued",
      training_file: fileId,
      seed: 7,
      user_provided_suffix: "demo",
      metadata: expect.objectContaining({ team: "ml" }),
      method: {
        type: "supervised",
        supervised: { hyperparameters: { n_epochs: 1, batch_size: 2, learning_rate_multiplier: 2 } },
      },
      fine_tuned_model: null,
    });
    const row = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id: job.id.slice("ftjob-".length) } });
    expect(row.hyperparameters).toMatchObject({
      epochs: 1,
      batch_size: 2,
      gradient_accumulation_steps: 1,
      learning_rate: 4e-4,
      seed: 7,
      eval_fraction: 0.5,
    });
    expect((await client.fineTuning.jobs.list({ limit: 10 })).data.map((j) => j.id)).toEqual([job.id]);
    succeeded = await until(
      "the job succeeded",
      async () => {
        const j = await client.fineTuning.jobs.retrieve(job.id);
        if (j.status === "failed") throw new Error(JSON.stringify(j.error));
        return j.status === "succeeded" ? j : null;
      },
      60_000,
    );
    expect(succeeded.fine_tuned_model).toBe(`ft:tiny-llama:trainpod:demo:${job.id}`);
    expect(succeeded.finished_at).toEqual(expect.any(Number));
    expect(succeeded.error).toBeNull();
    // the timeline is complete once the pod's termination is recorded (its event comes after the outcome's)
    await until(
      "the pod terminated",
      async () => (await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id: row.id } })).podTerminatedAt,
    );
    const events = (await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data;
    expect(events[0]).toMatchObject({ object: "fine_tuning.job.event", level: "info" });
    expect(events.map((e) => e.message)).toEqual(
      expect.arrayContaining([`Created fine-tuning job: ${job.id}`, "The job has successfully completed"]),
    );
    const metrics = events.filter((e) => e.type === "metrics");
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.some((e) => typeof (e.data as { valid_loss?: number }).valid_loss === "number")).toBe(true);
    const ids = events.map((e) => Number(e.id.slice("ftevent-".length)));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const page = await client.fineTuning.jobs.listEvents(job.id, { limit: 2 });
    expect(page.has_more).toBe(true);
    const next = await client.fineTuning.jobs.listEvents(job.id, { limit: 2, after: page.data[1]?.id });
    expect(next.data[0]?.id).toBe(events[2]?.id);
    // the resume work's checkpoints (issue 27: checkpoints/step-NNNNNN/ with its manifest), newest first
    const stored = await sys.db.prisma.artifact.findMany({
      where: {
        deploymentId: job.id.slice("ftjob-".length),
        path: { endsWith: "/trainpod-checkpoint.json" },
        status: "STORED",
      },
    });
    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data;
    expect(checkpoints.length).toBe(stored.length);
    expect(checkpoints.length).toBeGreaterThan(0);
    const steps = checkpoints.map((c) => c.step_number);
    expect(steps).toEqual([...steps].sort((a, b) => b - a));
    expect(checkpoints[0]).toMatchObject({
      object: "fine_tuning.job.checkpoint",
      fine_tuning_job_id: job.id,
      fine_tuned_model_checkpoint: `ft:tiny-llama:trainpod:${job.id}:ckpt-step-${steps[0]}`,
      trainpod_path: `checkpoints/step-${String(steps[0]).padStart(6, "0")}`,
    });
  }, 90_000);

  it("cancels a second job: cancelled, and its pod terminated", async () => {
    const job = await client.fineTuning.jobs.create({
      model: "tiny-llama",
      training_file: fileId,
      metadata: { trainpod_hyperparameters: sim({ steps: 1000, sim_step_ms: 200 }) },
    });
    await until(
      "the second job running",
      async () => (await client.fineTuning.jobs.retrieve(job.id)).status === "running",
      30_000,
    );
    const cancelled = await client.fineTuning.jobs.cancel(job.id);
    expect(cancelled.status).toBe("cancelled");
    const again = client.fineTuning.jobs.cancel(job.id);
    await expect(again).rejects.toBeInstanceOf(OpenAI.ConflictError);
    const id = job.id.slice("ftjob-".length);
    await until(
      "its pod terminated",
      async () => (await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).podTerminatedAt,
    );
    await until(
      "the cancelled webhook",
      async () => received.some((r) => r.body.includes('"fine_tuning.job.cancelled"')),
      30_000,
    );
  }, 60_000);

  it("the succeeded webhook: retried after a 500, every attempt recorded, verified by client.webhooks.unwrap", async () => {
    const delivered = await until(
      "the succeeded webhook accepted",
      async () => {
        const hits = received.filter((r) => r.body.includes(succeeded.id) && r.body.includes("succeeded"));
        return hits.length >= 2 ? hits : null;
      },
      30_000,
    );
    const [first, second] = delivered as [Received, Received];
    expect(first.headers["webhook-id"]).toBe(second.headers["webhook-id"]);
    expect(first.body).toBe(second.body);
    const event = await client.webhooks.unwrap(second.body, second.headers, secret);
    expect(event).toMatchObject({ object: "event", type: "fine_tuning.job.succeeded", data: { id: succeeded.id } });
    expect(event.id).toBe(second.headers["webhook-id"]);
    const delivery = await until("delivered", () =>
      sys.db.prisma.webhookDelivery.findFirst({
        where: { eventType: "fine_tuning.job.succeeded", status: "delivered" },
        include: { attemptLog: { orderBy: { attempt: "asc" } } },
      }),
    );
    expect(delivery.attemptLog.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    // tampered body, another secret, an old timestamp (correctly signed): all refused
    await expect(
      client.webhooks.unwrap(second.body.replace("succeeded", "failed"), second.headers, secret),
    ).rejects.toBeInstanceOf(OpenAI.InvalidWebhookSignatureError);
    await expect(
      client.webhooks.unwrap(second.body, second.headers, `whsec_${Buffer.alloc(32, 1).toString("base64")}`),
    ).rejects.toBeInstanceOf(OpenAI.InvalidWebhookSignatureError);
    const old = Math.floor(Date.now() / 1000) - 600;
    const stale = {
      ...second.headers,
      "webhook-timestamp": String(old),
      "webhook-signature": webhookSignature(secret, second.headers["webhook-id"] ?? "", old, second.body),
    };
    await expect(client.webhooks.unwrap(second.body, stale, secret)).rejects.toThrow(/too old/);
    // no failed-job webhook: the endpoint did not ask for it; exactly one delivery per job and endpoint
    expect(await sys.db.prisma.webhookDelivery.count()).toBe(2);
  }, 60_000);
});
