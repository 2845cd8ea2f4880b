import request from "supertest";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { createUserWithKey, revokeApiKey } from "@trainpod/core";
import { leakedSecrets, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let alice: string;
let bob: string;
const secrets: string[] = [];

const chat = (i: number) =>
  JSON.stringify({
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: `q${i}` },
      { role: "assistant", content: `a${i}` },
    ],
  });
const pc = (i: number) => JSON.stringify({ prompt: `p${i}`, completion: `c${i}` });

function upload(body: string | Buffer, key = alice, name = "set", type = "application/x-ndjson") {
  return request(h.app)
    .post(`/v1/datasets?name=${encodeURIComponent(name)}`)
    .set("authorization", `Bearer ${key}`)
    .set("content-type", type)
    .send(body);
}

function storedFiles(): string[] {
  const root = path.join(h.config.env.DATASET_DIR);
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  h = await startTestApi({ env: { DATASET_MAX_BYTES: "65536" } });
  alice = (await createUserWithKey(h.db.prisma, { email: "alice@example.com" })).key;
  bob = (await createUserWithKey(h.db.prisma, { email: "bob@example.com" })).key;
  secrets.push(alice, bob);
});
afterAll(async () => {
  await h?.close();
});

describe("POST /v1/datasets", () => {
  it("stores a chat dataset with size, sha256, rows and format", async () => {
    const body = [chat(1), "", chat(2), chat(3)].join("\n") + "\n";
    const res = await upload(body, alice, "chat set").expect(201);
    expect(res.body).toMatchObject({
      name: "chat set",
      format: "chat",
      rowCount: 3,
      sizeBytes: Buffer.byteLength(body),
      sha256: createHash("sha256").update(body).digest("hex"),
    });
    expect(res.headers.location).toBe(`/v1/datasets/${res.body.id}`);
    expect(res.body.storageKey).toBeUndefined();
    const row = await h.db.prisma.dataset.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.storageKey).toMatch(/^datasets\/[0-9a-f-]{36}\/[0-9a-f-]{36}\.jsonl$/);
    expect((await h.storage.stat(row.storageKey))?.sizeBytes).toBe(Buffer.byteLength(body));
  });

  it("stores a prompt/completion dataset (CRLF, no final newline, text/plain)", async () => {
    const body = [pc(1), pc(2)].join("\r\n");
    const res = await upload(body, alice, "pc", "text/plain; charset=utf-8").expect(201);
    expect(res.body).toMatchObject({ format: "prompt_completion", rowCount: 2 });
  });

  it("rejects an oversized upload with 413 and keeps nothing", async () => {
    const before = storedFiles().length;
    const rows = await h.db.prisma.dataset.count();
    const big = Array.from({ length: 2000 }, (_, i) => pc(i)).join("\n"); // ~50 KB over 64 KiB? make sure
    const body = big + "\n" + big;
    expect(Buffer.byteLength(body)).toBeGreaterThan(65536);
    const res = await upload(body).expect(413);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(storedFiles()).toHaveLength(before);
    expect(await h.db.prisma.dataset.count()).toBe(rows);
  });

  it("rejects an oversized chunked upload (no Content-Length) mid-stream", async () => {
    const before = storedFiles().length;
    const chunk = new TextEncoder().encode((pc(1) + "\n").repeat(500)); // ~17 KB
    let sent = 0;
    const res = await fetch(`${h.url}/v1/datasets?name=chunked`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/x-ndjson" },
      // a finite stream (~4x the limit): an endless one can leave the client uploading forever
      body: new ReadableStream({
        pull(c) {
          if (sent++ < 16) c.enqueue(chunk);
          else c.close();
        },
      }),
      duplex: "half",
      signal: AbortSignal.timeout(15_000),
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(storedFiles()).toHaveLength(before);
  });

  it("reports malformed lines by number with a reason (422) and keeps nothing", async () => {
    const before = storedFiles().length;
    const lines = [
      chat(1),
      "{not json",
      "[1,2]",
      JSON.stringify({ messages: [{ role: "robot", content: "x" }] }),
      JSON.stringify({ prompt: "p" }),
      "",
      JSON.stringify({ text: "hello" }),
      pc(1),
      chat(2),
    ];
    const res = await upload(lines.join("\n")).expect(422);
    expect(res.body.error.code).toBe("UNPROCESSABLE");
    expect(res.body.error.details.badLines).toEqual([
      { line: 2, reason: "not valid JSON" },
      { line: 3, reason: "not a JSON object" },
      { line: 4, reason: "messages[0].role must be one of system, user, assistant, tool" },
      { line: 5, reason: "completion must be a string" },
      { line: 7, reason: expect.stringContaining("unsupported shape") },
      { line: 8, reason: expect.stringContaining("mixed formats") },
    ]);
    expect(storedFiles()).toHaveLength(before);
  });

  it("stops at the first 10 bad lines", async () => {
    const res = await upload(Array.from({ length: 50 }, () => "nope").join("\n")).expect(422);
    expect(res.body.error.details.badLines.map((b: { line: number }) => b.line)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(res.body.error.details.truncated).toBe(true);
  });

  it("rejects an empty dataset, a missing name and an unsupported content type", async () => {
    expect((await upload("\n\n").expect(422)).body.error.message).toBe("dataset has no rows");
    expect((await upload(pc(1), alice, "").expect(400)).body.error.code).toBe("VALIDATION_FAILED");
    expect((await upload(pc(1), alice, "x", "application/x-www-form-urlencoded").expect(415)).body.error.code).toBe(
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });
});

describe("auth and ownership", () => {
  it("anonymous and garbage keys get 401 with the same message", async () => {
    const anon = await request(h.app).get("/v1/datasets").expect(401);
    const unknown = await request(h.app)
      .get("/v1/datasets")
      .set("authorization", `Bearer tp_live_${"A".repeat(43)}`)
      .expect(401);
    const garbage = await request(h.app).get("/v1/datasets").set("authorization", "Bearer nope").expect(401);
    expect(anon.body.error.code).toBe("UNAUTHORIZED");
    expect(unknown.body.error).toEqual(anon.body.error);
    expect(garbage.body.error).toEqual(anon.body.error);
    await request(h.app)
      .post("/v1/datasets?name=x")
      .set("content-type", "application/x-ndjson")
      .send(pc(1))
      .expect(401);
  });

  it("a revoked key gets 401 (within API_KEY_CACHE_TTL_MS)", async () => {
    const { key, apiKey } = await createUserWithKey(h.db.prisma, { email: "carol@example.com" });
    secrets.push(key);
    await request(h.app).get("/v1/datasets").set("authorization", `Bearer ${key}`).expect(200);
    expect(await revokeApiKey(h.db.prisma, h.clock, { apiKeyId: apiKey.id })).toBe(true);
    // the API trusts a lookup for API_KEY_CACHE_TTL_MS: refused once that has passed, not later
    h.clock.advance(h.config.env.API_KEY_CACHE_TTL_MS);
    const res = await request(h.app).get("/v1/datasets").set("authorization", `Bearer ${key}`).expect(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });

  it("another user's dataset is 404, and lists are per owner and paged", async () => {
    const mine = await upload(pc(7), bob, "bob's").expect(201);
    await request(h.app).get(`/v1/datasets/${mine.body.id}`).set("authorization", `Bearer ${alice}`).expect(404);
    await request(h.app).get("/v1/datasets/not-a-uuid").set("authorization", `Bearer ${bob}`).expect(404);
    const own = await request(h.app)
      .get(`/v1/datasets/${mine.body.id}`)
      .set("authorization", `Bearer ${bob}`)
      .expect(200);
    expect(own.body.name).toBe("bob's");
    for (let i = 0; i < 3; i++) await upload(pc(i), bob, `b${i}`).expect(201);
    const p1 = await request(h.app).get("/v1/datasets?limit=3").set("authorization", `Bearer ${bob}`).expect(200);
    expect(p1.body.items).toHaveLength(3);
    const p2 = await request(h.app)
      .get(`/v1/datasets?limit=3&cursor=${p1.body.nextCursor}`)
      .set("authorization", `Bearer ${bob}`)
      .expect(200);
    expect(p2.body.items).toHaveLength(1);
    expect(p2.body.nextCursor).toBeNull();
    const names = [...p1.body.items, ...p2.body.items].map((d: { name: string }) => d.name);
    expect(names.sort()).toEqual(["b0", "b1", "b2", "bob's"]);
    await request(h.app).get("/v1/datasets?limit=101").set("authorization", `Bearer ${bob}`).expect(400);
  });

  it("the deployment routes sit behind the same API key check", async () => {
    await request(h.app).get("/v1/deployments").expect(401);
    await request(h.app).get("/v1/deployments").set("authorization", `Bearer ${bob}`).expect(200);
  });

  it("no key reached a log line", () => {
    expect(h.logs.length).toBeGreaterThan(10);
    expect(leakedSecrets(h.logs, secrets)).toEqual([]);
  });
});
