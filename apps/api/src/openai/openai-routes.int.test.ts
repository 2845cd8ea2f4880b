/**
 * The OpenAI-compatible routes' access matrix (every route: anonymous, a garbage key and a revoked key 401; another
 * user's file, job or endpoint 404, all in OpenAI's error shape), the webhook URL rule at registration (SSRF), the
 * file upload's purpose and OpenAI's DPO rows. The SDK's whole flow on the simulator: test/e2e/openai.test.ts.
 */
import { createApiKey, createUserWithKey, ManualClock, revokeApiKey } from "@trainpod/core";
import { insertDeployment, leakedSecrets, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

const clock = new ManualClock(Date.now());
let h: ApiHarness;
let owner: { key: string; file: string; job: string; endpoint: string };
let other: string;
let revoked: string;

const ROUTES: Array<{ method: string; path: string; owned?: boolean }> = [
  { method: "POST", path: "/files" },
  { method: "GET", path: "/files" },
  { method: "GET", path: "/files/:file", owned: true },
  { method: "DELETE", path: "/files/:file", owned: true },
  { method: "POST", path: "/fine_tuning/jobs" },
  { method: "GET", path: "/fine_tuning/jobs" },
  { method: "GET", path: "/fine_tuning/jobs/:job", owned: true },
  { method: "POST", path: "/fine_tuning/jobs/:job/cancel", owned: true },
  { method: "GET", path: "/fine_tuning/jobs/:job/events", owned: true },
  { method: "GET", path: "/fine_tuning/jobs/:job/checkpoints", owned: true },
  { method: "POST", path: "/webhook_endpoints" },
  { method: "GET", path: "/webhook_endpoints" },
  { method: "GET", path: "/webhook_endpoints/:endpoint", owned: true },
  { method: "DELETE", path: "/webhook_endpoints/:endpoint", owned: true },
];

async function call(method: string, path: string, key: string | null, body?: unknown, type = "application/json") {
  const url = `${h.url}/openai/v1${path.replace(":file", owner.file).replace(":job", owner.job).replace(":endpoint", owner.endpoint)}`;
  const res = await fetch(url, {
    method,
    headers: { "content-type": type, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body:
      body === undefined
        ? method === "POST"
          ? "{}"
          : undefined
        : typeof body === "string"
          ? body
          : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { error?: Record<string, unknown> } & Record<string, unknown>,
  };
}

function multipart(purpose: string, content: string): { body: string; type: string } {
  const b = "----tp-boundary";
  const body = [
    `--${b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n`,
    `--${b}\r\nContent-Disposition: form-data; name="file"; filename="dpo.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n${content}\r\n`,
    `--${b}--\r\n`,
  ].join("");
  return { body, type: `multipart/form-data; boundary=${b}` };
}

beforeAll(async () => {
  h = await startTestApi({ clock, env: { WEBHOOK_ALLOW_PRIVATE_URLS: "false" } });
  const a = await createUserWithKey(h.db.prisma, { email: "owner@example.com" });
  const dataset = await h.db.prisma.dataset.create({
    data: {
      userId: a.user.id,
      name: "d",
      storageKey: "x/y.jsonl",
      sizeBytes: 1n,
      sha256: "0".repeat(64),
      format: "chat",
      rowCount: 1,
    },
  });
  const endpoint = await h.db.prisma.webhookEndpoint.create({
    data: {
      userId: a.user.id,
      name: "e",
      url: "https://example.com/",
      eventTypes: [],
      keyId: "k",
      iv: Buffer.alloc(12),
      ciphertext: Buffer.alloc(1),
      authTag: Buffer.alloc(16),
      secretHint: "whsec_...abcd",
    },
  });
  owner = {
    key: a.key,
    file: `file-${dataset.id}`,
    job: `ftjob-${await insertDeployment(h, a.user.id, dataset.id)}`,
    endpoint: `whe_${endpoint.id}`,
  };
  other = (await createUserWithKey(h.db.prisma, { email: "other@example.com" })).key;
  const extra = await createApiKey(h.db.prisma, a.user.id, "to revoke");
  revoked = extra.key;
  await revokeApiKey(h.db.prisma, clock, { apiKeyId: extra.apiKey.id });
});
afterAll(async () => {
  await h?.close();
});

describe.each(ROUTES)("$method /openai/v1$path", (c) => {
  it("anonymous, a garbage key and a revoked key: 401 in OpenAI's shape", async () => {
    for (const key of [null, "tp_live_not-a-real-key", revoked]) {
      const res = await call(c.method, c.path, key);
      expect([res.status, res.body.error?.type, res.body.error?.code]).toEqual([
        401,
        "invalid_request_error",
        "invalid_api_key",
      ]);
    }
  });
  if (c.owned)
    it("another user's resource is 404, as if it did not exist, and nothing changes", async () => {
      const res = await call(c.method, c.path, other);
      expect([res.status, res.body.error?.type]).toEqual([404, "invalid_request_error"]);
      expect(await h.db.prisma.dataset.count({ where: { deletedAt: null } })).toBe(1);
      expect(await h.db.prisma.webhookEndpoint.count()).toBe(1);
      expect(await h.db.prisma.deployment.count({ where: { status: "QUEUED" } })).toBe(1);
    });
});

describe("webhook endpoints: the URL rule (no server-side request forgery)", () => {
  it.each([
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "https://10.0.0.7/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://user:pw@example.com/hook",
    "ftp://example.com/hook",
  ])("%s is refused: 400 naming url, nothing stored", async (url) => {
    const res = await call("POST", "/webhook_endpoints", owner.key, {
      url,
      event_types: ["fine_tuning.job.succeeded"],
    });
    expect([res.status, res.body.error?.param]).toEqual([400, "url"]);
    expect(await h.db.prisma.webhookEndpoint.count()).toBe(1);
  });

  it("an event type trainpod does not send is refused, not ignored", async () => {
    const res = await call("POST", "/webhook_endpoints", owner.key, {
      url: "https://example.com/",
      event_types: ["batch.completed"],
    });
    expect([res.status, res.body.error?.param, res.body.error?.code]).toEqual([400, "event_types", "unsupported"]);
  });
});

describe("files", () => {
  it("OpenAI's DPO rows upload as a preference_chat dataset", async () => {
    const row = {
      input: { messages: [{ role: "user", content: "q" }] },
      preferred_output: [{ role: "assistant", content: "good" }],
      non_preferred_output: [{ role: "assistant", content: "bad" }],
    };
    const m = multipart("fine-tune", `${JSON.stringify(row)}\n${JSON.stringify(row)}\n`);
    const res = await call("POST", "/files", owner.key, m.body, m.type);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      object: "file",
      filename: "dpo.jsonl",
      purpose: "fine-tune",
      status: "processed",
    });
    const d = await h.db.prisma.dataset.findUniqueOrThrow({ where: { id: String(res.body.id).slice("file-".length) } });
    expect([d.format, d.rowCount]).toEqual(["preference_chat", 2]);
    const gone = await call("DELETE", `/files/${String(res.body.id)}`, owner.key);
    expect(gone.body).toEqual({ id: res.body.id, object: "file", deleted: true });
  });

  it("a purpose other than fine-tune, or none, is 400 and keeps nothing; a JSON body is 400", async () => {
    const before = await h.db.prisma.dataset.count({ where: { deletedAt: null } });
    for (const purpose of ["batch", ""]) {
      const m = multipart(purpose, '{"prompt":"a","completion":"b"}\n');
      const res = await call("POST", "/files", owner.key, m.body, m.type);
      expect([res.status, res.body.error?.param]).toEqual([400, "purpose"]);
    }
    const json = await call("POST", "/files", owner.key, { file: "x" });
    expect([json.status, json.body.error?.param]).toEqual([400, "file"]);
    expect(await h.db.prisma.dataset.count({ where: { deletedAt: null } })).toBe(before);
  });

  it("an unknown route under the prefix is OpenAI's 404; no key reached a log line", async () => {
    const res = await call("GET", "/models", owner.key);
    expect([res.status, res.body.error?.type]).toEqual([404, "invalid_request_error"]);
    expect(leakedSecrets(h.logs, [owner.key, other, revoked])).toEqual([]);
  });
});
