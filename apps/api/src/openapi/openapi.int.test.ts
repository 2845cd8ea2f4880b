import request from "supertest";
import type { Express } from "express";
import { createUserWithKey, recordEvent } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { buildOpenApiDocument } from "./document";
import { ADMIN_OPERATIONS, statsSchema } from "./admin-operations";
import { OPERATIONS } from "./operations";
import { ARTIFACT_OPERATIONS } from "./artifact-operations";
import { SPEND_OPERATIONS } from "./spend-operations";
import { SECRETS_OPERATIONS } from "./secrets-operations";
import { RUN_PAGE_OPERATIONS } from "./run-page-operations";
import { datasetSchema, deploymentWithEventsSchema, estimateSchema } from "./response-schemas";

let h: ApiHarness;
beforeAll(async () => {
  h = await startTestApi();
});
afterAll(async () => {
  await h?.close();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every METHOD path registered in the Express app, found by walking its router stack (Express syntax turned into OpenAPI's). */
function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/[:*](\w+)/g, "{$1}");
        for (const m of Object.keys(layer.route.methods)) out.push(`${m === "_all" ? "get" : m} ${path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
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
    for (const op of [
      ...OPERATIONS,
      ...ADMIN_OPERATIONS,
      ...ARTIFACT_OPERATIONS,
      ...SPEND_OPERATIONS,
      ...SECRETS_OPERATIONS,
      ...RUN_PAGE_OPERATIONS,
    ]) {
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
});
