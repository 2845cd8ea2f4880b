import request from "supertest";
import type { Express } from "express";
import type { z } from "zod";
import { createUserWithKey, recordEvent } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { ALL_OPERATIONS, buildOpenApiDocument } from "./document";
import { statsSchema } from "./admin-operations";
import { datasetSchema, deploymentWithEventsSchema, estimateSchema } from "./response-schemas";
import { OPENAI_OPERATIONS } from "./openai-operations";
import * as oai from "./openai-schemas";

let h: ApiHarness;
beforeAll(async () => {
  h = await startTestApi();
});
afterAll(async () => {
  await h?.close();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  /** the path the layer was registered with (router 2.3+): a mounted router's prefix, "/" when mounted bare */
  rawPath?: unknown;
  handle?: { stack?: Layer[] };
}

/**
 * Every METHOD path registered in the Express app, found by walking its router stack (Express syntax turned into
 * OpenAPI's). A router mounted at a prefix (`app.use("/openai/v1", router)`) keeps it: Express 5's layers have no
 * regexp to read it back from, but keep the path they were registered with (`rawPath`).
 */
function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = `${prefix}${layer.route.path}`.replace(/[:*](\w+)/g, "{$1}");
        for (const m of Object.keys(layer.route.methods)) out.push(`${m === "_all" ? "get" : m} ${path}`);
      } else if (layer.handle?.stack) {
        if (typeof layer.rawPath !== "string")
          throw new Error(`a router mounted at ${String(layer.rawPath)}: cannot tell its prefix (router < 2.3?)`);
        walk(layer.handle.stack, prefix + layer.rawPath.replace(/\/+$/, ""));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return out;
}

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
};

describe("the OpenAPI document", () => {
  const doc = buildOpenApiDocument() as Doc;

  it("lists every route the app registers, and nothing it does not", () => {
    const routes = registeredRoutes(h.app);
    expect(routes.length).toBeGreaterThan(15);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  it("every example validates against its zod schema", () => {
    let checked = 0;
    for (const op of ALL_OPERATIONS) {
      for (const body of [op.body, ...Object.values(op.responses)]) {
        if (body?.schema === undefined || body.example === undefined) continue;
        const r = body.schema.safeParse(body.example);
        expect({ op: `${op.method} ${op.path}`, issues: r.success ? [] : r.error.issues }).toEqual({
          op: `${op.method} ${op.path}`,
          issues: [],
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("is OpenAPI 3.1 with JSON Schemas generated from zod", () => {
    expect(doc.openapi).toBe("3.1.0");
    const submit = doc.paths["/v1/deployments"]?.post as unknown as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, unknown>; required: string[] } }> };
    };
    const schema = submit.requestBody.content["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(
      expect.arrayContaining(["datasetId", "gpuTypeIds", "maxCostUsd", "setupTimeoutMinutes"]),
    );
    expect(schema?.required).toEqual(expect.arrayContaining(["datasetId", "baseModel", "gpuTypeIds"]));
    // the typed hyperparameters (issue 15): every name with its type, unknown keys refused
    const hp = schema?.properties.hyperparameters as {
      properties: Record<string, { type?: string; minimum?: number }>;
      additionalProperties: boolean;
    };
    expect(Object.keys(hp.properties)).toEqual(
      expect.arrayContaining([
        "learning_rate",
        "epochs",
        "steps",
        "lora_r",
        "lora_alpha",
        "lora_dropout",
        "max_seq_length",
        "batch_size",
        "gradient_accumulation_steps",
        "completion_only_loss",
        "target_modules",
        "merge_adapter",
      ]),
    );
    expect(hp.properties.epochs).toMatchObject({ type: "integer", minimum: 1 });
    expect(hp.additionalProperties).toBe(false);
  });

  it("is served at /openapi.json, with a docs page and its assets from node_modules at /docs", async () => {
    const res = await request(h.app).get("/openapi.json").expect(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
    const page = await request(h.app).get("/docs").expect(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.text).not.toMatch(/https?:\/\//);
    await request(h.app).get("/docs/assets/swagger-ui-bundle.js").expect(200);
    await request(h.app).get("/docs/init.js").expect(200);
  });

  it("the response schemas describe what the API really answers", async () => {
    const u = await createUserWithKey(h.db.prisma, { email: "alice@example.com" });
    const auth = { authorization: `Bearer ${u.key}` };
    const up = await request(h.app)
      .post("/v1/datasets?name=x")
      .set(auth)
      .set("content-type", "application/x-ndjson")
      .send('{"prompt":"p","completion":"c"}\n')
      .expect(201);
    expect(datasetSchema.safeParse(up.body).error).toBeUndefined();
    const id = await insertDeployment(h, u.user.id, (await makeDataset(h.db.prisma, u.user.id)).id);
    await recordEvent(h.db.prisma, id, { type: "progress", data: { step: 1 } });
    const d = await request(h.app).get(`/v1/deployments/${id}`).set(auth).expect(200);
    expect(deploymentWithEventsSchema.safeParse(d.body).error).toBeUndefined();
    const e = await request(h.app)
      .post("/v1/deployments/estimate")
      .set(auth)
      .send({ gpuTypeIds: ["NVIDIA A40"] })
      .expect(200);
    expect(estimateSchema.safeParse(e.body).error).toBeUndefined();
    const admin = await createUserWithKey(h.db.prisma, { email: "ops@example.com", role: "ADMIN" });
    const stats = await request(h.app).get("/v1/stats").set("authorization", `Bearer ${admin.key}`).expect(200);
    expect(statsSchema.safeParse(stats.body).error).toBeUndefined();
  });

  it("the OpenAI-compatible routes: what they really answer, errors in OpenAI's shape", async () => {
    for (const op of OPENAI_OPERATIONS)
      for (const [status, body] of Object.entries(op.responses))
        if (Number(status) >= 400)
          expect([op.path, status, body.schema]).toEqual([op.path, status, oai.openAiErrorSchema]);
    const u = await createUserWithKey(h.db.prisma, { email: "sdk@example.com" });
    const call = (method: "get" | "post", path: string) =>
      request(h.app)[method](`/openai/v1${path}`).set("authorization", `Bearer ${u.key}`);
    const checks: Array<[string, z.ZodType, unknown]> = [];
    const b = "tp-boundary";
    const upload = await call("post", "/files")
      .set("content-type", `multipart/form-data; boundary=${b}`)
      .send(
        `--${b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n` +
          `--${b}\r\nContent-Disposition: form-data; name="file"; filename="c.jsonl"\r\n\r\n{"prompt":"p","completion":"c"}\n\r\n--${b}--\r\n`,
      )
      .expect(200);
    checks.push(["POST /files", oai.fileSchema, upload.body]);
    checks.push(["GET /files", oai.fileListSchema, (await call("get", "/files").expect(200)).body]);
    const job = `ftjob-${await insertDeployment(h, u.user.id, (await makeDataset(h.db.prisma, u.user.id)).id)}`;
    await recordEvent(h.db.prisma, job.slice(6), { type: "progress", data: { step: 3, totalSteps: 9, loss: 1.5 } });
    await recordEvent(h.db.prisma, job.slice(6), { type: "running", message: "the pod is up" });
    checks.push([
      "GET /fine_tuning/jobs",
      oai.jobListSchema,
      (await call("get", "/fine_tuning/jobs").expect(200)).body,
    ]);
    const events = (await call("get", `/fine_tuning/jobs/${job}/events`).expect(200)).body as { data: unknown[] };
    expect(events.data).toHaveLength(2);
    checks.push(["GET events", oai.eventListSchema, events]);
    const ckpts = (await call("get", `/fine_tuning/jobs/${job}/checkpoints`).expect(200)).body as unknown;
    checks.push(["GET checkpoints", oai.checkpointListSchema, ckpts]);
    checks.push([
      "POST cancel",
      oai.jobSchema,
      (await call("post", `/fine_tuning/jobs/${job}/cancel`).expect(200)).body,
    ]);
    checks.push([
      "GET /webhook_endpoints",
      oai.endpointListSchema,
      (await call("get", "/webhook_endpoints").expect(200)).body,
    ]);
    const missing = await call("get", `/fine_tuning/jobs/${job}x`).expect(404);
    checks.push(["404", oai.openAiErrorSchema, missing.body]);
    for (const [what, schema, body] of checks) expect([what, schema.safeParse(body).error]).toEqual([what, undefined]);
    // the documented 401 is the very body the routes answer
    const anonymous = await request(h.app).get("/openai/v1/files").expect(401);
    const listFiles = OPENAI_OPERATIONS.find((op) => op.method === "get" && op.path === "/openai/v1/files");
    expect(anonymous.body).toEqual(listFiles?.responses[401]?.example);
  });
});
