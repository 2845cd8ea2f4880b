/**
 * Property-based fuzz (fast-check) of every API endpoint's body, query and headers, over real HTTP
 * against the real app and database: never a 5xx, every error is our JSON shape, and a rejected
 * request writes nothing (rows counted before and after).
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { createUserWithKey, ManualClock, mintRunToken } from "@trainpod/core";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let key: string;
let deploymentId: string;
let datasetId: string;
let runToken: string;
const clock = new ManualClock(Date.now());
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

beforeAll(async () => {
  h = await startTestApi({ clock });
  const u = await createUserWithKey(h.db.prisma, { email: "fuzz@example.com" });
  key = u.key;
  const up = await fetch(`${h.url}/v1/datasets?name=seed`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
    body: '{"prompt":"a","completion":"b"}\n',
  });
  datasetId = ((await up.json()) as { id: string }).id;
  deploymentId = await insertDeployment(h, u.user.id, datasetId);
  runToken = (await mintRunToken({ prisma: h.db.prisma, clock, config: h.config }, { deploymentId })).token;
});
afterAll(async () => {
  await h?.close();
});

const counts = async () => {
  const p = h.db.prisma;
  const [deployments, events, datasets, tokens] = await Promise.all([
    p.deployment.count(),
    p.deploymentEvent.count(),
    p.dataset.count(),
    p.runToken.count(),
  ]);
  return { deployments, events, datasets, tokens };
};

/** header-safe text (what a client can actually send) */
const headerText = fc.stringMatching(/^[\x20-\x7e]{0,300}$/);
const text = fc.string({ unit: "binary", maxLength: 300 });
const jsonValue = fc.jsonValue({ maxDepth: 4 });
const validBody = () => ({ datasetId, baseModel: "m", gpuTypeIds: ["NVIDIA A40"], hyperparameters: { steps: 1 } });
/** a near-valid deployment request with one field replaced, removed or added */
const mutatedBody = fc
  .tuple(
    fc.constantFrom(
      "datasetId",
      "baseModel",
      "gpuTypeIds",
      "hyperparameters",
      "gpuCount",
      "cloudType",
      "image",
      "containerDiskInGb",
      "volumeInGb",
      "maxRuntimeMinutes",
      "maxCostUsd",
      "setupTimeoutMinutes",
      "extra",
    ),
    fc.option(fc.oneof(jsonValue, text, fc.array(text, { maxLength: 2 }), fc.dictionary(text, text, { maxKeys: 2 }))),
  )
  .map(([field, value]) => {
    const body: Record<string, unknown> = validBody();
    if (value === null) delete body[field];
    else body[field] = value;
    return body;
  });

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

async function send(req: Sent): Promise<{ status: number; json: unknown; before: Awaited<ReturnType<typeof counts>> }> {
  const before = await counts();
  const res = await fetch(`${h.url}${req.path}`, { method: req.method, headers: req.headers, body: req.body });
  const raw = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(raw);
  } catch {
    // checked below
  }
  return { status: res.status, json, before };
}

/** The properties every answer must have. */
async function check(req: Sent): Promise<number> {
  const { status, json, before } = await send(req);
  expect(status).toBeLessThan(500);
  if (status >= 400) {
    expect(json).toEqual({
      error: expect.objectContaining({ code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) }),
    });
    expect(await counts()).toEqual(before);
  }
  return status;
}

const auth = () => ({ authorization: `Bearer ${key}` });
const q = (params: Array<[string, string]>) =>
  params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
const queryParams = fc.array(
  fc.tuple(fc.constantFrom("status", "limit", "cursor", "name", "x", "limit[]", "__proto__"), text),
  { maxLength: 4 },
);

describe("fuzz: every endpoint, never 5xx, JSON errors, nothing written when rejected", () => {
  it("POST /v1/deployments: bodies, content types and Idempotency-Keys", async () => {
    const body = fc.oneof(
      mutatedBody.map((b) => JSON.stringify(b)),
      jsonValue.map((v) => JSON.stringify(v)),
      text,
    );
    const type = fc.constantFrom(
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=utf-16",
      "",
    );
    await fc.assert(
      fc.asyncProperty(body, type, fc.option(headerText), async (b, t, idem) => {
        await check({
          method: "POST",
          path: "/v1/deployments",
          headers: {
            ...auth(),
            ...(t ? { "content-type": t } : {}),
            ...(idem !== null ? { "idempotency-key": idem } : {}),
          },
          body: b,
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("GET /v1/deployments and /v1/datasets: any query", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/v1/deployments", "/v1/datasets"), queryParams, async (path, params) => {
        await check({ method: "GET", path: `${path}?${q(params)}`, headers: auth() });
      }),
      { numRuns: RUNS },
    );
  });

  it("GET/POST on /v1/deployments/:id, /:id/cancel and /v1/datasets/:id with any id", async () => {
    const id = fc.oneof(text, fc.uuid(), fc.constant(deploymentId));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(["GET", "/v1/deployments/"], ["POST", "/v1/deployments/", "/cancel"], ["GET", "/v1/datasets/"]),
        id,
        async ([method, head, tail], raw) => {
          await check({
            method: method as string,
            path: `${head}${encodeURIComponent(raw)}${tail ?? ""}`,
            headers: { ...auth(), "content-type": "application/json" },
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/datasets: any name, content type and body", async () => {
    const type = fc.constantFrom(
      "application/x-ndjson",
      "application/jsonl",
      "text/plain",
      "application/json",
      "image/png",
    );
    await fc.assert(
      fc.asyncProperty(
        queryParams,
        type,
        fc.oneof(
          text,
          jsonValue.map((v) => JSON.stringify(v)),
        ),
        async (params, t, b) => {
          await check({
            method: "POST",
            path: `/v1/datasets?${q(params)}`,
            headers: { ...auth(), "content-type": t },
            body: b,
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("GET /v1/datasets/download: any token", async () => {
    await fc.assert(
      fc.asyncProperty(
        queryParams,
        fc.oneof(text, fc.constant("tp_ds_"), fc.stringMatching(/^tp_ds_[A-Za-z0-9_-]{43}$/)),
        async (params, token) => {
          await check({ method: "GET", path: `/v1/datasets/download?${q([...params, ["token", token]])}` });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/runs/:id/events: any auth header and body, the real token included", async () => {
    const authHeader = fc.oneof(headerText, fc.constant(`Bearer ${runToken}`));
    const event = fc.oneof(
      jsonValue,
      fc.record(
        {
          type: fc.constantFrom(
            "heartbeat",
            "started",
            "dataset_downloaded",
            "phase",
            "progress",
            "log",
            "completed",
            "failed",
            "nope",
          ),
          seq: fc.option(fc.oneof(fc.integer(), jsonValue)),
          step: fc.option(jsonValue),
          lines: fc.option(fc.oneof(jsonValue, fc.array(text, { maxLength: 3 }))),
          message: fc.option(fc.oneof(jsonValue, text)),
          exitCode: fc.option(jsonValue),
          phase: fc.option(fc.oneof(fc.constantFrom("tokenize", "training", "model_download"), jsonValue)),
          state: fc.option(fc.oneof(fc.constantFrom("started", "progress", "ended"), jsonValue)),
          done: fc.option(fc.oneof(fc.integer(), fc.double(), jsonValue)),
          total: fc.option(fc.oneof(fc.maxSafeNat(), jsonValue)),
          unit: fc.option(jsonValue),
          cause: fc.option(jsonValue),
          bytes: fc.option(jsonValue),
          system: fc.option(fc.oneof(jsonValue, fc.dictionary(text, text, { maxKeys: 3 }))),
        },
        { requiredKeys: ["type"] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant(deploymentId), fc.uuid(), text), authHeader, event, async (id, a, e) => {
        await check({
          method: "POST",
          path: `/v1/runs/${encodeURIComponent(id)}/events`,
          headers: { authorization: a, "content-type": "application/json" },
          body: JSON.stringify(e),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /v1/runs/:id/artifacts (the declaration): any body, the real token", async () => {
    const declaration = fc.record(
      {
        path: fc.oneof(text, fc.constantFrom("a", "../x", "model.bin")),
        sizeBytes: fc.oneof(fc.integer(), fc.double(), text),
        sha256: fc.oneof(text, fc.stringMatching(/^[0-9a-f]{64}$/)),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(declaration, jsonValue), async (b) => {
        await check({
          method: "POST",
          path: `/v1/runs/${deploymentId}/artifacts`,
          headers: { authorization: `Bearer ${runToken}`, "content-type": "application/json" },
          body: JSON.stringify(b),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("PUT /v1/runs/:id/artifacts/*: any path, the real token", async () => {
    const segment = fc.oneof(text, fc.constantFrom("..", ".", "", "%2e%2e", "a", "model.bin"));
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 10 }),
        fc.uint8Array({ maxLength: 64 }),
        async (segments, body) => {
          await check({
            method: "PUT",
            path: `/v1/runs/${deploymentId}/artifacts/${segments.map(encodeURIComponent).join("/")}`,
            headers: { authorization: `Bearer ${runToken}` },
            body,
          });
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("what the fuzz found", () => {
  it("an artifact path through an existing file, or onto an existing folder, is 409 (was a 500)", async () => {
    const put = async (p: string) => {
      const sha256 = createHash("sha256").update("x").digest("hex");
      const declared = await check({
        method: "POST",
        path: `/v1/runs/${deploymentId}/artifacts`,
        headers: { authorization: `Bearer ${runToken}`, "content-type": "application/json" },
        body: JSON.stringify({ path: p, sizeBytes: 1, sha256 }),
      });
      expect(declared).toBe(201);
      return check({
        method: "PUT",
        path: `/v1/runs/${deploymentId}/artifacts/${p}`,
        headers: { authorization: `Bearer ${runToken}` },
        body: "x",
      });
    };
    expect(await put("found/file")).toBe(201);
    expect(await put("found/file/below")).toBe(409);
    expect(await put("found")).toBe(409);
  });
});

describe("what the security run found (issue 34)", () => {
  it("a NUL in a submission's strings is a 4xx, never a 500 (Postgres refuses it), and /validate agrees", async () => {
    const bodies = [
      { ...validBody(), image: "runpod/pytorch\u0000" },
      { ...validBody(), baseModel: "m\u0000" },
      { ...validBody(), gpuTypeIds: ["NVIDIA A40\u0000"] },
      { ...validBody(), hyperparameters: { steps: 1, sim_error: "\u0000" } },
    ];
    for (const b of bodies) {
      const send = (path: string) =>
        check({
          method: "POST",
          path,
          headers: { ...auth(), "content-type": "application/json" },
          body: JSON.stringify(b),
        });
      const submitted = await send("/v1/deployments");
      expect([submitted, await send("/v1/deployments/validate")]).toEqual([submitted, submitted]);
      expect(submitted).toBeGreaterThanOrEqual(400);
    }
  });

  it("a pod's log line or system fact holding a NUL is kept (as U+FFFD, tabs and escapes as they are), not a 500", async () => {
    const run = (event: unknown) =>
      check({
        method: "POST",
        path: `/v1/runs/${deploymentId}/events`,
        headers: { authorization: `Bearer ${runToken}`, "content-type": "application/json" },
        body: JSON.stringify(event),
      });
    expect(await run({ type: "log", lines: ["binary \u0000 output\ttab \u001b[31mred"] })).toBe(202);
    expect(await run({ type: "started", system: { "gpu\u0000": "A40\u0000" } })).toBe(202);
    const logged = await h.db.prisma.deploymentEvent.findMany({ where: { deploymentId, type: "log" } });
    expect(JSON.stringify(logged.map((e) => e.data))).toContain("binary \ufffd output\\ttab \\u001b[31mred");
  });
});

describe("limits", () => {
  it("a JSON body over 256 kB is 413 in our shape; a page over 100 is 400", async () => {
    const big = JSON.stringify({ ...validBody(), hyperparameters: { x: "y".repeat(300 * 1024) } });
    expect(
      await check({
        method: "POST",
        path: "/v1/deployments",
        headers: { ...auth(), "content-type": "application/json" },
        body: big,
      }),
    ).toBe(413);
    expect(await check({ method: "GET", path: "/v1/deployments?limit=101", headers: auth() })).toBe(400);
    expect(await check({ method: "GET", path: "/v1/datasets?limit=1000000", headers: auth() })).toBe(400);
  });

  it("strings past their limits are 400: base model, GPU ids, Idempotency-Key; a bad hyperparameter is 422", async () => {
    const cases = [
      { ...validBody(), baseModel: "m".repeat(201) },
      { ...validBody(), gpuTypeIds: ["g".repeat(101)] },
      { ...validBody(), gpuTypeIds: Array.from({ length: 11 }, (_, i) => `g${i}`) },
      { ...validBody(), image: "i".repeat(301) },
    ];
    for (const body of cases)
      expect(
        await check({
          method: "POST",
          path: "/v1/deployments",
          headers: { ...auth(), "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      ).toBe(400);
    expect(
      await check({
        method: "POST",
        path: "/v1/deployments",
        headers: { ...auth(), "content-type": "application/json", "idempotency-key": "k".repeat(201) },
        body: JSON.stringify(validBody()),
      }),
    ).toBe(400);
    for (const hyperparameters of [{ sim_error: "v".repeat(1001) }, { k: "v" }, { epochs: "3" }]) {
      expect(
        await check({
          method: "POST",
          path: "/v1/deployments",
          headers: { ...auth(), "content-type": "application/json" },
          body: JSON.stringify({ ...validBody(), hyperparameters }),
        }),
      ).toBe(422);
    }
  });
});
