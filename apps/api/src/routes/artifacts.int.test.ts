/**
 * Artifacts on the API's disk (STORAGE=local): the pod declares and uploads through its run token, within the
 * per-file and per-deployment quotas, with size and sha256 checked; the owner lists, downloads (Range, If-Range)
 * and deletes; anyone else gets 404. The same routes with S3 storage: test/e2e/artifacts-s3.test.ts.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { createUserWithKey, ManualClock, mintRunToken, sweepArtifactRetention } from "@trainpod/core";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

const MAX_FILE = 10_000;
const MAX_TOTAL = 25_000;
let h: ApiHarness;
const clock = new ManualClock(Date.now());
let owner: { id: string; key: string; dataset: string };
let other: { id: string; key: string };

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

async function datasetOf(userId: string): Promise<string> {
  const d = await h.db.prisma.dataset.create({
    data: {
      userId,
      name: "d",
      storageKey: `datasets/${userId}/${Math.random().toString(36).slice(2)}.jsonl`,
      sizeBytes: 10n,
      sha256: "0".repeat(64),
      format: "chat",
      rowCount: 1,
    },
  });
  return d.id;
}

async function runOf(status: "RUNNING" | "SUCCEEDED" = "RUNNING"): Promise<{ id: string; token: string }> {
  const id = await insertDeployment(h, owner.id, owner.dataset);
  await h.db.prisma.deployment.update({ where: { id }, data: { status } });
  const { token } = await mintRunToken({ prisma: h.db.prisma, clock, config: h.config }, { deploymentId: id });
  return { id, token };
}

async function call(method: string, url: string, auth: string, body?: Buffer | string | object) {
  const json = body !== undefined && !Buffer.isBuffer(body) && typeof body === "object";
  const res = await fetch(`${h.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${auth}`,
      ...(json ? { "content-type": "application/json" } : { "content-type": "application/octet-stream" }),
    },
    body: json ? JSON.stringify(body) : body,
  });
  const raw = Buffer.from(await res.arrayBuffer());
  let parsed: { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown> = {};
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    // a file's bytes
  }
  return { status: res.status, headers: res.headers, raw, json: parsed };
}

async function upload(run: { id: string; token: string }, p: string, data: Buffer) {
  const declared = await call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
    path: p,
    sizeBytes: data.length,
    sha256: sha256(data),
  });
  if (declared.status !== 201 || declared.json.mode !== "api") return declared;
  return call("PUT", `/v1/runs/${run.id}/artifacts/${p}`, run.token, data);
}

beforeAll(async () => {
  h = await startTestApi({
    clock,
    env: { ARTIFACT_MAX_BYTES: String(MAX_FILE), ARTIFACT_MAX_TOTAL_BYTES: String(MAX_TOTAL) },
  });
  const a = await createUserWithKey(h.db.prisma, { email: "owner@example.com" });
  owner = { id: a.user.id, key: a.key, dataset: "" };
  owner.dataset = await datasetOf(a.user.id);
  const b = await createUserWithKey(h.db.prisma, { email: "other@example.com" });
  other = { id: b.user.id, key: b.key };
}, 30_000);
afterAll(async () => h?.close());

describe("the pod uploads", () => {
  it("declared, then sent: stored with its size and sha256; declaring the same file again answers stored", async () => {
    const run = await runOf();
    const data = bytes(5000);
    const declared = await call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
      path: "lora/adapter.bin",
      sizeBytes: 5000,
      sha256: sha256(data),
    });
    expect(declared.json).toEqual({ path: "lora/adapter.bin", mode: "api", partSizeBytes: 5000, partCount: 1 });
    const put = await call("PUT", `/v1/runs/${run.id}/artifacts/lora/adapter.bin`, run.token, data);
    expect([put.status, put.json]).toEqual([201, { path: "lora/adapter.bin", sizeBytes: 5000, sha256: sha256(data) }]);
    const again = await call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
      path: "lora/adapter.bin",
      sizeBytes: 5000,
      sha256: sha256(data),
    });
    expect(again.json.mode).toBe("stored");
  });

  it("bytes that differ from the declaration are refused and nothing is kept", async () => {
    const run = await runOf();
    const data = bytes(3000);
    await call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
      path: "a.bin",
      sizeBytes: 3000,
      sha256: sha256(data),
    });
    const wrong = await call("PUT", `/v1/runs/${run.id}/artifacts/a.bin`, run.token, bytes(3000, 2));
    expect([wrong.status, wrong.json.error?.code]).toEqual([422, "CHECKSUM_MISMATCH"]);
    const longer = await call("PUT", `/v1/runs/${run.id}/artifacts/a.bin`, run.token, bytes(3001));
    expect([longer.status, longer.json.error?.code]).toEqual([422, "CHECKSUM_MISMATCH"]);
    expect(existsSync(path.join(h.config.env.ARTIFACT_DIR, run.id, "a.bin"))).toBe(false);
    expect((await call("GET", `/v1/deployments/${run.id}/artifacts`, owner.key)).json.items).toEqual([]);
  });

  it("a PUT that was not declared is refused (409), so every byte on disk was counted against the quota", async () => {
    const run = await runOf();
    const res = await call("PUT", `/v1/runs/${run.id}/artifacts/undeclared.bin`, run.token, bytes(10));
    expect([res.status, res.json.error?.code]).toEqual([409, "CONFLICT"]);
    expect(existsSync(path.join(h.config.env.ARTIFACT_DIR, run.id, "undeclared.bin"))).toBe(false);
  });

  it("quotas: one file over ARTIFACT_MAX_BYTES is 413; files together over ARTIFACT_MAX_TOTAL_BYTES are 413 with the figures", async () => {
    const run = await runOf();
    const big = await call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
      path: "big.bin",
      sizeBytes: MAX_FILE + 1,
      sha256: "a".repeat(64),
    });
    expect([big.status, big.json.error?.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    for (const name of ["one.bin", "two.bin"]) expect((await upload(run, name, bytes(9000))).status).toBe(201);
    const third = await call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
      path: "three.bin",
      sizeBytes: 9000,
      sha256: "b".repeat(64),
    });
    expect([third.status, third.json.error?.code, third.json.error?.details]).toEqual([
      413,
      "ARTIFACT_QUOTA_EXCEEDED",
      { maxTotalBytes: MAX_TOTAL, usedBytes: 18000, sizeBytes: 9000 },
    ]);
    // replacing a file counts its new size, not both
    expect((await upload(run, "two.bin", bytes(7000, 3))).status).toBe(201);
    expect((await call("GET", `/v1/deployments/${run.id}/artifacts`, owner.key)).json.totalBytes).toBe(16000);
  });

  it("declarations racing for the last bytes: only as many as fit are accepted", async () => {
    const run = await runOf();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
          path: `race-${i}.bin`,
          sizeBytes: 9000,
          sha256: "c".repeat(64),
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 413, 413, 413, 413]);
  });
});

describe("the owner downloads", () => {
  let run: { id: string; token: string };
  const data = bytes(8000, 7);
  beforeAll(async () => {
    run = await runOf("SUCCEEDED");
    expect((await upload(run, "model/adapter.safetensors", data)).status).toBe(201);
  });

  it("lists the files; another user, or no key, gets 404/401 for the list, the file and the delete", async () => {
    const list = await call("GET", `/v1/deployments/${run.id}/artifacts`, owner.key);
    expect(list.json).toEqual({
      items: [
        { path: "model/adapter.safetensors", sizeBytes: 8000, sha256: sha256(data), uploadedAt: expect.any(String) },
      ],
      totalBytes: 8000,
      deletedAt: null,
      deletedReason: null,
    });
    for (const [method, url] of [
      ["GET", `/v1/deployments/${run.id}/artifacts`],
      ["GET", `/v1/deployments/${run.id}/artifacts/model/adapter.safetensors`],
      ["DELETE", `/v1/deployments/${run.id}/artifacts`],
    ]) {
      const res = await call(method!, url!, other.key);
      expect([method, url, res.status, res.json.error?.code]).toEqual([method, url, 404, "NOT_FOUND"]);
      expect((await call(method!, url!, "tp_live_nope")).status).toBe(401);
    }
  });

  it("the whole file with its ETag and sha256; a Range resumes; a stale If-Range gets the whole file; past the end is 416", async () => {
    const url = `/v1/deployments/${run.id}/artifacts/model/adapter.safetensors`;
    const whole = await call("GET", url, owner.key);
    expect([
      whole.status,
      whole.headers.get("content-length"),
      whole.headers.get("etag"),
      whole.headers.get("x-content-sha256"),
      sha256(whole.raw),
    ]).toEqual([200, "8000", `"sha256-${sha256(data)}"`, sha256(data), sha256(data)]);
    const part = await fetch(`${h.url}${url}`, {
      headers: { authorization: `Bearer ${owner.key}`, range: "bytes=5000-", "if-range": `"sha256-${sha256(data)}"` },
    });
    const tail = Buffer.from(await part.arrayBuffer());
    expect([part.status, part.headers.get("content-range"), tail.length]).toEqual([206, "bytes 5000-7999/8000", 3000]);
    expect(Buffer.concat([whole.raw.subarray(0, 5000), tail]).equals(data)).toBe(true);
    const stale = await fetch(`${h.url}${url}`, {
      headers: { authorization: `Bearer ${owner.key}`, range: "bytes=5000-", "if-range": '"sha256-other"' },
    });
    expect([stale.status, (await stale.arrayBuffer()).byteLength]).toEqual([200, 8000]);
    const past = await fetch(`${h.url}${url}`, {
      headers: { authorization: `Bearer ${owner.key}`, range: "bytes=8000-" },
    });
    expect([
      past.status,
      past.headers.get("content-range"),
      ((await past.json()) as { error: { code: string } }).error.code,
    ]).toEqual([416, "bytes */8000", "RANGE_NOT_SATISFIABLE"]);
    expect((await call("GET", `/v1/deployments/${run.id}/artifacts/model/missing.bin`, owner.key)).status).toBe(404);
    expect((await call("GET", `/v1/deployments/${run.id}/artifacts/..%2f..%2fetc/passwd`, owner.key)).status).toBe(404);
  });

  it("delete: 409 while the deployment is live; then 204, the files are gone and the timeline says so", async () => {
    const live = await runOf("RUNNING");
    expect((await upload(live, "x.bin", bytes(10))).status).toBe(201);
    const refused = await call("DELETE", `/v1/deployments/${live.id}/artifacts`, owner.key);
    expect([refused.status, refused.json.error?.code]).toEqual([409, "DEPLOYMENT_LIVE"]);
    const done = await runOf("SUCCEEDED");
    expect((await upload(done, "y.bin", bytes(10))).status).toBe(201);
    expect((await call("DELETE", `/v1/deployments/${done.id}/artifacts`, owner.key)).status).toBe(204);
    expect(existsSync(path.join(h.config.env.ARTIFACT_DIR, done.id, "y.bin"))).toBe(false);
    expect((await call("GET", `/v1/deployments/${done.id}/artifacts`, owner.key)).json).toMatchObject({
      items: [],
      deletedReason: "owner",
    });
    const events = await h.db.prisma.deploymentEvent.findMany({
      where: { deploymentId: done.id, type: "artifacts_deleted" },
    });
    expect(events.map((e) => e.data)).toEqual([{ reason: "owner", files: 1, bytes: 10 }]);
    expect((await call("DELETE", `/v1/deployments/${done.id}/artifacts`, owner.key)).status).toBe(204);
  });
});

describe("retention and datasets", () => {
  it("the maintenance pass deletes files older than ARTIFACT_RETENTION_DAYS, says so in the timeline, and keeps newer ones", async () => {
    const old = await runOf("SUCCEEDED");
    expect((await upload(old, "old.bin", bytes(100))).status).toBe(201);
    clock.advance(31 * 86_400_000);
    const fresh = await runOf("SUCCEEDED");
    expect((await upload(fresh, "fresh.bin", bytes(100))).status).toBe(201);
    const storage = (await import("@trainpod/core")).createBlobStorage(h.config, "artifacts");
    const swept = await sweepArtifactRetention({ prisma: h.db.prisma, clock, storage }, 30);
    expect(swept.deployments).toBeGreaterThanOrEqual(1);
    expect(existsSync(path.join(h.config.env.ARTIFACT_DIR, old.id, "old.bin"))).toBe(false);
    expect(existsSync(path.join(h.config.env.ARTIFACT_DIR, fresh.id, "fresh.bin"))).toBe(true);
    const event = await h.db.prisma.deploymentEvent.findFirstOrThrow({
      where: { deploymentId: old.id, type: "artifacts_deleted" },
    });
    expect(event.message).toMatch(/^artifacts deleted after the retention period: 1 files, 100 bytes$/);
    expect((await call("GET", `/v1/deployments/${old.id}/artifacts`, owner.key)).json).toMatchObject({
      items: [],
      deletedReason: "retention",
    });
  });

  it("an upload declared and never finished on a closed deployment is swept a day later: partial file and row gone", async () => {
    const run = await runOf("RUNNING");
    const data = bytes(4000);
    expect(
      (
        await call("POST", `/v1/runs/${run.id}/artifacts`, run.token, {
          path: "half.bin",
          sizeBytes: 4000,
          sha256: sha256(data),
        })
      ).status,
    ).toBe(201);
    await h.db.prisma.deployment.update({ where: { id: run.id }, data: { status: "FAILED" } });
    const storage = (await import("@trainpod/core")).createBlobStorage(h.config, "artifacts");
    const { sweepAbandonedUploads } = await import("@trainpod/core");
    expect(await sweepAbandonedUploads({ prisma: h.db.prisma, clock, storage }, 86_400_000)).toBe(0);
    clock.advance(86_400_001);
    expect(await sweepAbandonedUploads({ prisma: h.db.prisma, clock, storage }, 86_400_000)).toBe(1);
    expect(await h.db.prisma.artifact.count({ where: { deploymentId: run.id } })).toBe(0);
  });

  it("DELETE /v1/datasets/:id: 409 while a live deployment uses it, 404 for others, then 204 and gone from the list", async () => {
    const datasetId = await datasetOf(owner.id);
    const live = await insertDeployment(h, owner.id, datasetId);
    const inUse = await call("DELETE", `/v1/datasets/${datasetId}`, owner.key);
    expect([inUse.status, inUse.json.error?.code, inUse.json.error?.details]).toEqual([
      409,
      "DATASET_IN_USE",
      { deploymentIds: [live] },
    ]);
    expect((await call("DELETE", `/v1/datasets/${datasetId}`, other.key)).status).toBe(404);
    await h.db.prisma.deployment.update({ where: { id: live }, data: { status: "CANCELLED" } });
    expect((await call("DELETE", `/v1/datasets/${datasetId}`, owner.key)).status).toBe(204);
    expect((await call("GET", `/v1/datasets/${datasetId}`, owner.key)).status).toBe(404);
    expect(
      ((await call("GET", `/v1/datasets`, owner.key)).json.items as Array<{ id: string }>).map((d) => d.id),
    ).not.toContain(datasetId);
    const submit = await call("POST", "/v1/deployments", owner.key, {
      datasetId,
      baseModel: "m",
      gpuTypeIds: ["NVIDIA A40"],
    });
    expect([
      submit.status,
      submit.json.error?.code,
      (submit.json.error?.details as { problems: Array<{ code: string }> }).problems.map((p) => p.code),
    ]).toEqual([422, "PREFLIGHT_FAILED", ["DATASET_NOT_FOUND"]]);
  });
});
