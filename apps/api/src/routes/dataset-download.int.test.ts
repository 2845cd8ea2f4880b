import http from "node:http";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { createUserWithKey, ManualClock, mintDatasetToken, revokeDeploymentTokens } from "@trainpod/core";
import { insertDeployment, leakedSecrets, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { until } from "../../../../test/support/until";

let h: ApiHarness;
const clock = new ManualClock(Date.now());
let key: string;
let userId: string;
let bigId: string;
let smallId: string;
let bigSha: string;
let bigSize: number;
const secrets: string[] = [];

interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  sha256: string;
  json?: { error: { code: string; message: string } };
}

/** GET with the body hashed as it streams (never held in memory). */
function download(url: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const hash = createHash("sha256");
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (c: Buffer) => {
          bytes += c.length;
          hash.update(c);
          if (res.statusCode !== 200) chunks.push(c);
        });
        res.on("end", () => {
          const json =
            res.statusCode === 200 ? undefined : (JSON.parse(Buffer.concat(chunks).toString()) as Fetched["json"]);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, sha256: hash.digest("hex"), json });
        });
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

async function mint(datasetId: string) {
  const deploymentId = await insertDeployment(h, userId, datasetId);
  const minted = await mintDatasetToken({ prisma: h.db.prisma, clock, config: h.config }, { deploymentId });
  secrets.push(minted.token);
  return { ...minted, deploymentId };
}

/** ~`mb` MB of prompt/completion JSONL, generated as a stream. */
function generated(mb: number): Readable {
  const row = (i: number) =>
    `${JSON.stringify({ prompt: `question ${i} ${"x".repeat(200)}`, completion: `answer ${i} ${"y".repeat(200)}` })}\n`;
  let i = 0;
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= mb * 1024 * 1024) return this.push(null);
      const lines: string[] = [];
      for (let k = 0; k < 500; k++) lines.push(row(i++));
      const buf = Buffer.from(lines.join(""));
      sent += buf.length;
      this.push(buf);
    },
  });
}

async function uploadStream(body: Readable, name: string) {
  const res = await fetch(`${h.url}/v1/datasets?name=${name}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
    body: Readable.toWeb(body) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; sha256: string; sizeBytes: number };
}

beforeAll(async () => {
  h = await startTestApi({ clock });
  const created = await createUserWithKey(h.db.prisma, { email: "pod-owner@example.com" });
  key = created.key;
  userId = created.user.id;
  secrets.push(key);
  const big = await uploadStream(generated(50), "big");
  bigId = big.id;
  bigSha = big.sha256;
  bigSize = big.sizeBytes;
  smallId = (await uploadStream(Readable.from([`{"prompt":"a","completion":"b"}\n`]), "small")).id;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe("GET /v1/datasets/download", () => {
  it("streams a 50 MB dataset with Content-Length, type, sha256 header and ETag, then spends the token", async () => {
    expect(bigSize).toBeGreaterThan(50 * 1024 * 1024);
    const t = await mint(bigId);
    const res = await download(t.url);
    expect(res.status).toBe(200);
    expect(res.bytes).toBe(bigSize);
    expect(res.sha256).toBe(bigSha);
    expect(res.headers["content-length"]).toBe(String(bigSize));
    expect(res.headers["content-type"]).toBe("application/x-ndjson");
    expect(res.headers["x-content-sha256"]).toBe(bigSha);
    expect(res.headers.etag).toBe(`"sha256-${bigSha}"`);
    const row = await until(
      "token spent",
      () => h.db.prisma.datasetDownloadToken.findFirst({ where: { id: t.id, usedAt: { not: null } } }),
      10_000,
      25,
    );
    expect(row.claimedAt).not.toBeNull();
    const again = await download(t.url);
    expect(again.status).toBe(401);
    expect(again.json?.error.code).toBe("TOKEN_USED");
  }, 30_000);

  it("answers 401 naming each bad kind: invalid, unknown, expired, revoked", async () => {
    for (const url of [
      `${h.url}/v1/datasets/download`,
      `${h.url}/v1/datasets/download?token=nope`,
      `${h.url}/v1/datasets/download?token=..%2F..%2Fetc%2Fpasswd`,
      `${h.url}/v1/datasets/download?token=tp_ds_${"A".repeat(43)}`,
    ]) {
      const res = await download(url);
      expect(res.status).toBe(401);
      expect(res.json?.error).toEqual({ code: "TOKEN_INVALID", message: "download token is invalid" });
    }
    const expiring = await mint(smallId);
    clock.advance(h.config.env.DATASET_TOKEN_TTL_MINUTES * 60_000 + 1);
    const expired = await download(expiring.url);
    expect([expired.status, expired.json?.error.code]).toEqual([401, "TOKEN_EXPIRED"]);

    const revoked = await mint(smallId);
    expect((await revokeDeploymentTokens(h.db.prisma, clock, revoked.deploymentId)).datasetTokens).toBe(1);
    const r = await download(revoked.url);
    expect([r.status, r.json?.error.code]).toEqual([401, "TOKEN_REVOKED"]);
  });

  it("HEAD does not spend a token", async () => {
    const t = await mint(smallId);
    const head = await fetch(t.url, { method: "HEAD" });
    expect(head.status).toBe(405);
    expect((await download(t.url)).status).toBe(200);
  });

  it("of 20 concurrent downloads of one token exactly one wins; 19 get 401 TOKEN_USED", async () => {
    const t = await mint(bigId);
    const results = await Promise.all(Array.from({ length: 20 }, () => download(t.url)));
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.sha256).toBe(bigSha);
    const losers = results.filter((r) => r.status !== 200);
    expect(losers.map((r) => [r.status, r.json?.error.code])).toEqual(
      Array.from({ length: 19 }, () => [401, "TOKEN_USED"]),
    );
  }, 30_000);

  it("a transfer broken mid-stream releases the claim, and the retry with the same token succeeds", async () => {
    const t = await mint(bigId);
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.get(t.url, { agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        let got = 0;
        res.on("data", (c: Buffer) => {
          got += c.length;
          if (got > 1024 * 1024) {
            req.destroy();
            resolve(got);
          }
        });
      });
      req.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" ? undefined : reject(err)));
    });
    expect(received).toBeLessThan(bigSize);
    await until(
      "token released",
      () => h.db.prisma.datasetDownloadToken.findFirst({ where: { id: t.id, claimedAt: null, usedAt: null } }),
      10_000,
      25,
    );
    const retry = await download(t.url);
    expect(retry.status).toBe(200);
    expect(retry.sha256).toBe(bigSha);
    await until(
      "token spent",
      () => h.db.prisma.datasetDownloadToken.findFirst({ where: { id: t.id, usedAt: { not: null } } }),
      10_000,
      25,
    );
  }, 30_000);

  it("no token or key reached a log line", () => {
    expect(secrets.length).toBeGreaterThan(5);
    expect(h.logs.some((l) => l.includes("/v1/datasets/download"))).toBe(true);
    expect(leakedSecrets(h.logs, secrets)).toEqual([]);
  });
});
