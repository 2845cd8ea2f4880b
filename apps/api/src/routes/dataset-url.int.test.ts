/**
 * `POST /v1/runs/:id/dataset/url`: a pod whose dataset token was spent on the redirect to the bucket gets a fresh
 * presigned GET through its run token when the first one expired mid-download, and resumes on it with Range. Real
 * Postgres, a real S3-compatible server (LocalStack, test/support/s3-server.ts); local storage answers NOT_A_BUCKET.
 */
import { createHash } from "node:crypto";
import { createUserWithKey, ManualClock, mintDatasetToken, mintRunToken } from "@trainpod/core";
import { useTestBucket } from "../../../../test/support/s3-server";
import { insertDeployment, leakedSecrets, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

const bucket = useTestBucket();
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DATA = Buffer.from(
  Array.from({ length: 400 }, (_, i) => JSON.stringify({ prompt: `q${i}`, completion: `a${i}` })).join("\n") + "\n",
);
const secrets: string[] = [];

interface Pod {
  deploymentId: string;
  tokenUrl: string;
  runToken: string;
}

async function harness(env: Record<string, string>): Promise<{ h: ApiHarness; datasetId: string; userId: string }> {
  const h = await startTestApi({ env, clock: new ManualClock(Date.now()) });
  const { user, key } = await createUserWithKey(h.db.prisma, { email: "pod-owner@example.com" });
  secrets.push(key);
  const up = await fetch(`${h.url}/v1/datasets?name=small`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
    body: DATA,
  });
  expect(up.status).toBe(201);
  return { h, datasetId: ((await up.json()) as { id: string }).id, userId: user.id };
}

async function pod(h: ApiHarness, userId: string, datasetId: string): Promise<Pod> {
  const deploymentId = await insertDeployment(h, userId, datasetId);
  const deps = { prisma: h.db.prisma, clock: h.clock, config: h.config };
  const ds = await mintDatasetToken(deps, { deploymentId });
  const run = await mintRunToken(deps, { deploymentId });
  secrets.push(ds.token, run.token);
  return { deploymentId, tokenUrl: ds.url, runToken: run.token };
}

function reissue(h: ApiHarness, p: Pod, token = p.runToken): Promise<Response> {
  return fetch(`${h.url}/v1/runs/${p.deploymentId}/dataset/url`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
  });
}

async function errorOf(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
}

describe("with S3 storage (presigned GETs valid 1 s here)", () => {
  let h: ApiHarness;
  let datasetId: string;
  let userId: string;
  beforeAll(async () => {
    ({ h, datasetId, userId } = await harness({ ...bucket.env, S3_DATASET_PRESIGN_SECONDS: "1" }));
  }, 60_000);
  afterAll(async () => h?.close());

  it("the redirect's URL expires; a fresh one through the run token resumes the download with Range", async () => {
    const p = await pod(h, userId, datasetId);
    const redirect = await fetch(p.tokenUrl, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const first = redirect.headers.get("location") ?? "";
    expect(new URL(first).searchParams.get("X-Amz-Expires")).toBe("1"); // S3_DATASET_PRESIGN_SECONDS
    expect((await fetch(p.tokenUrl, { redirect: "manual" })).status).toBe(401); // the token is spent

    await sleep(2300);
    const expired = await fetch(first, { headers: { range: "bytes=100-" } });
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain("Request has expired");

    // signatures are dated in whole seconds: ask early in one, so the 1 s URL is good for most of it
    await sleep(1050 - (Date.now() % 1000));
    const res = await reissue(h, p);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const fresh = (await res.json()) as { url: string; expiresAt: string };
    const tail = await fetch(fresh.url, { headers: { range: "bytes=100-" } });
    expect(tail.status).toBe(206);
    expect(Buffer.concat([DATA.subarray(0, 100), Buffer.from(await tail.arrayBuffer())]).equals(DATA)).toBe(true);
    expect(new URL(fresh.url).searchParams.get("X-Amz-Expires")).toBe("1");
    expect(Math.abs(Date.parse(fresh.expiresAt) - Date.now())).toBeLessThan(2000);
  }, 30_000);

  it("is refused before the token URL was used (409 CONFLICT), and to another deployment's token (401)", async () => {
    const p = await pod(h, userId, datasetId);
    expect(await errorOf(await reissue(h, p))).toEqual([409, "CONFLICT"]);
    const other = await pod(h, userId, datasetId);
    expect(await errorOf(await reissue(h, p, other.runToken))).toEqual([401, "TOKEN_INVALID"]);
    expect(await errorOf(await reissue(h, p, "tp_run_nope"))).toEqual([401, "TOKEN_INVALID"]);
  });

  it("is refused once the deployment has ended (409 CONFLICT)", async () => {
    const p = await pod(h, userId, datasetId);
    expect((await fetch(p.tokenUrl, { redirect: "manual" })).status).toBe(302);
    expect((await reissue(h, p)).status).toBe(200);
    await h.db.prisma.deployment.update({ where: { id: p.deploymentId }, data: { status: "FAILED" } });
    const res = await reissue(h, p);
    expect(await errorOf(res)).toEqual([409, "CONFLICT"]);
  });

  it("no token, key or signature reached a log line", () => {
    expect(h.logs.some((l) => l.includes("/dataset/url"))).toBe(true);
    expect(leakedSecrets(h.logs, secrets)).toEqual([]);
    expect(h.logs.filter((l) => l.includes("X-Amz-Signature"))).toEqual([]);
  });
});

describe("with local storage", () => {
  let h: ApiHarness;
  let datasetId: string;
  let userId: string;
  beforeAll(async () => {
    ({ h, datasetId, userId } = await harness({}));
  }, 60_000);
  afterAll(async () => h?.close());

  it("answers 409 NOT_A_BUCKET: the token URL streams the bytes, there is nothing to re-issue", async () => {
    const p = await pod(h, userId, datasetId);
    const res = await fetch(p.tokenUrl);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(DATA));
    expect(await errorOf(await reissue(h, p))).toEqual([409, "NOT_A_BUCKET"]);
  });

  it("presigns datasets for an hour by default", () => {
    expect(h.config.env.S3_DATASET_PRESIGN_SECONDS).toBe(3600);
    expect(h.config.env.S3_PRESIGN_SECONDS).toBe(60);
  });
});
