/**
 * Who may call what, route by route: anonymous, garbage key, revoked key, another user's resources,
 * admin-only routes; run tokens (wrong deployment, revoked at termination, expired); path traversal
 * on the download and the artifact upload; no secret in any log line or error body.
 * New routes: add a row to USER_ROUTES or ADMIN_ROUTES.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import express from "express";
import {
  createApiKey,
  createUserWithKey,
  ManualClock,
  mintDatasetToken,
  mintRunToken,
  revokeApiKey,
  revokeDeploymentTokens,
} from "@trainpod/core";
import { apiKeyAuth, requireScreenAccess } from "../http/auth";
import { errorHandler } from "../http/error-handler";
import { insertDeployment, leakedSecrets, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { captureLogger } from "../../../../test/support/test-config";

interface RouteCase {
  method: "GET" | "POST" | "PUT";
  /** `:deployment` and `:dataset` are replaced by the owner's ids */
  path: string;
  body?: string;
  /** the route names one of the owner's resources: another user gets 404 */
  owned?: boolean;
  /** past the access check, the route's own answer for a caller let in (default: any status below 400) */
  passes?: number;
}

const USER_ROUTES: RouteCase[] = [
  { method: "GET", path: "/v1/deployments" },
  { method: "POST", path: "/v1/deployments", body: "{}" },
  { method: "GET", path: "/v1/deployments/:deployment", owned: true },
  { method: "POST", path: "/v1/deployments/:deployment/cancel", owned: true },
  { method: "GET", path: "/v1/datasets" },
  { method: "GET", path: "/v1/datasets/:dataset", owned: true },
  { method: "POST", path: "/v1/datasets?name=x", body: '{"prompt":"a","completion":"b"}' },
  { method: "POST", path: "/v1/deployments/estimate", body: '{"gpuTypeIds":["NVIDIA A40"]}' },
  { method: "POST", path: "/v1/deployments/validate", body: "{}" },
  { method: "GET", path: "/v1/deployments/:deployment/artifacts", owned: true },
  { method: "GET", path: "/v1/deployments/:deployment/artifacts/model.bin", owned: true },
  { method: "GET", path: "/v1/spend" },
  { method: "POST", path: "/v1/deployments/:deployment/retry", owned: true },
  // the run pages (the browser session or an API key; a browser without either is sent to /login)
  { method: "GET", path: "/runs" },
  { method: "GET", path: "/runs/new" },
  { method: "GET", path: "/runs/:deployment", owned: true },
  { method: "GET", path: "/runs/:deployment/panel", owned: true },
  // the events stream never ends for a live deployment: its owner-only check is in deployment-stream.int.test.ts
];
/** operators' screens (all reads): anonymous 401, a user's key 403, an operator's or admin's key passes
 * (retry/cancel, which change state and are admin-only: admin.int.test.ts) */
const ADMIN_ROUTES: RouteCase[] = [
  { method: "GET", path: "/v1/stats" },
  { method: "GET", path: "/v1/admin/deployments" },
  { method: "GET", path: "/v1/admin/deployments/:deployment/artifacts" },
  { method: "GET", path: "/v1/admin/spend" },
  // the harness's in-memory RunPod lists no network volumes: let in, the route answers 503 (RunPod unavailable)
  { method: "GET", path: "/v1/admin/cache-volumes", passes: 503 },
  { method: "GET", path: "/admin/queues" },
  { method: "GET", path: "/admin/queues/api/queues" },
  { method: "GET", path: "/dashboard" },
  { method: "GET", path: "/dashboard/vendor/chart.js" },
  { method: "GET", path: "/metrics" },
];

let h: ApiHarness;
const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");
const tmp = mkdtempSync(path.join(os.tmpdir(), "trainpod-access-"));
const clock = new ManualClock(Date.now());
const secrets: string[] = [];
const bodies: string[] = [];
let owner: { id: string; key: string; deployment: string; dataset: string };
let other: string;
let revoked: string;

async function call(
  c: RouteCase,
  key: string | null,
  ids = owner,
): Promise<{ status: number; json: { error?: { code: string } } }> {
  const url = `${h.url}${c.path.replace(":deployment", ids.deployment).replace(":dataset", ids.dataset)}`;
  const res = await fetch(url, {
    method: c.method,
    headers: {
      "content-type": c.path.startsWith("/v1/datasets") ? "application/x-ndjson" : "application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: c.body,
  });
  const text = await res.text();
  bodies.push(text);
  const json = (res.headers.get("content-type") ?? "").includes("json")
    ? (JSON.parse(text) as { error?: { code: string } })
    : {};
  return { status: res.status, json };
}

/** A raw request: node's http client sends the path as written (fetch would resolve `..`). */
function raw(
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${h.url}${rawPath}`, { method, headers, path: rawPath }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => {
        bodies.push(text);
        resolve({ status: res.statusCode ?? 0, body: text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  h = await startTestApi({ clock, env: { ARTIFACT_DIR: path.join(tmp, "a", "b", "artifacts") } });
  const a = await createUserWithKey(h.db.prisma, { email: "owner@example.com" });
  const dataset = await h.db.prisma.dataset.create({
    data: {
      userId: a.user.id,
      name: "d",
      storageKey: "x/y.jsonl",
      sizeBytes: 1n,
      sha256: "0".repeat(64),
      format: "PROMPT_COMPLETION",
      rowCount: 1,
    },
  });
  owner = {
    id: a.user.id,
    key: a.key,
    dataset: dataset.id,
    deployment: await insertDeployment(h, a.user.id, dataset.id),
  };
  other = (await createUserWithKey(h.db.prisma, { email: "other@example.com" })).key;
  const extra = await createApiKey(h.db.prisma, a.user.id, "to revoke");
  revoked = extra.key;
  await revokeApiKey(h.db.prisma, clock, { apiKeyId: extra.apiKey.id });
  secrets.push(a.key, other, revoked);
});
afterAll(async () => {
  await h?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe.each(USER_ROUTES)("$method $path", (c) => {
  it("anonymous, a garbage key and a revoked key: 401, nothing else said", async () => {
    for (const key of [null, "tp_live_not-a-real-key", revoked]) {
      const res = await call(c, key);
      expect([res.status, res.json.error?.code]).toEqual([401, "UNAUTHORIZED"]);
    }
  });
  if (c.owned) {
    it("another user's resource is 404, as if it did not exist", async () => {
      const res = await call(c, other);
      expect([res.status, res.json.error?.code]).toEqual([404, "NOT_FOUND"]);
      expect((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: owner.deployment } })).status).toBe(
        "QUEUED",
      );
    });
  }
});

describe("admin-only routes", () => {
  it("anonymous 401, a user's key 403, an operator's and an admin's key pass (every row of ADMIN_ROUTES, and requireScreenAccess itself)", async () => {
    const admin = await createUserWithKey(h.db.prisma, { email: "admin@example.com", role: "ADMIN" });
    const operator = await createUserWithKey(h.db.prisma, { email: "operator@example.com", role: "OPERATOR" });
    secrets.push(admin.key, operator.key);
    for (const c of ADMIN_ROUTES) {
      expect((await call(c, null)).status).toBe(401);
      expect((await call(c, owner.key)).status).toBe(403);
      const passed = (status: number) => (c.passes !== undefined ? status === c.passes : status < 400);
      expect({ path: c.path, ok: passed((await call(c, operator.key)).status) }).toEqual({ path: c.path, ok: true });
      expect({ path: c.path, ok: passed((await call(c, admin.key)).status) }).toEqual({ path: c.path, ok: true });
    }
    const probe = express();
    probe.all(
      "/probe",
      apiKeyAuth({ prisma: h.db.prisma, clock }),
      requireScreenAccess,
      (_req, res) => void res.json({ ok: true }),
    );
    probe.use(errorHandler(captureLogger().logger));
    const server = probe.listen(0);
    const port = (server.address() as { port: number }).port;
    try {
      const status = async (key?: string, method = "GET") =>
        (
          await fetch(`http://127.0.0.1:${port}/probe`, {
            method,
            headers: key ? { authorization: `Bearer ${key}` } : {},
          })
        ).status;
      expect([await status(), await status(owner.key), await status(operator.key), await status(admin.key)]).toEqual([
        401, 403, 200, 200,
      ]);
      expect([
        await status(operator.key, "POST"),
        await status(operator.key, "DELETE"),
        await status(admin.key, "POST"),
      ]).toEqual([403, 403, 200]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe("run tokens", () => {
  const post = (deploymentId: string, token: string) =>
    raw(
      "POST",
      `/v1/runs/${deploymentId}/events`,
      { authorization: `Bearer ${token}`, "content-type": "application/json" },
      JSON.stringify({ type: "log", lines: ["hi"] }),
    );
  it("another deployment's token is 401; revoked at termination 401 TOKEN_REVOKED; expired 401 TOKEN_EXPIRED", async () => {
    const deps = { prisma: h.db.prisma, clock, config: h.config };
    const mine = await insertDeployment(h, owner.id, owner.dataset);
    const theirs = await insertDeployment(h, owner.id, owner.dataset);
    const token = (await mintRunToken(deps, { deploymentId: mine })).token;
    secrets.push(token);
    expect(JSON.parse((await post(theirs, token)).body).error.code).toBe("TOKEN_INVALID");
    await revokeDeploymentTokens(h.db.prisma, clock, mine); // what terminate does
    expect(JSON.parse((await post(mine, token)).body).error.code).toBe("TOKEN_REVOKED");
    const later = (await mintRunToken(deps, { deploymentId: theirs })).token;
    secrets.push(later);
    clock.advance((h.config.env.RUN_TOKEN_TTL_HOURS * 3600 + 1) * 1000);
    const res = await post(theirs, later);
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([401, "TOKEN_EXPIRED"]);
  });
});

describe("path traversal", () => {
  it("artifact upload: no `..`, encoded or not, no absolute path; nothing written outside the deployment's folder", async () => {
    const id = await insertDeployment(h, owner.id, owner.dataset);
    const token = (await mintRunToken({ prisma: h.db.prisma, clock, config: h.config }, { deploymentId: id })).token;
    secrets.push(token);
    const put = (p: string) =>
      raw("PUT", `/v1/runs/${id}/artifacts/${p}`, { authorization: `Bearer ${token}` }, "evil");
    for (const p of [
      "../../escape.txt",
      "..%2f..%2fescape.txt",
      "%2e%2e/%2e%2e/escape.txt",
      "a/../../escape.txt",
      "%2fetc%2fescape.txt",
      "..\\..\\escape.txt",
      "a/./b",
    ]) {
      const res = await put(p);
      expect([p, res.status]).toEqual([p, expect.any(Number)]);
      expect(res.status === 400 || res.status === 404).toBe(true);
      expect(JSON.parse(res.body).error.code).toMatch(/VALIDATION_FAILED|NOT_FOUND/);
    }
    for (const p of ["../../escape.txt", "a/../../escape.txt", "/etc/escape.txt", "..\\..\\escape.txt", "a/./b"]) {
      const declared = await raw(
        "POST",
        `/v1/runs/${id}/artifacts`,
        { authorization: `Bearer ${token}`, "content-type": "application/json" },
        JSON.stringify({ path: p, sizeBytes: 4, sha256: sha256Hex("evil") }),
      );
      expect([p, declared.status, JSON.parse(declared.body).error.code]).toEqual([p, 400, "VALIDATION_FAILED"]);
    }
    const declared = await raw(
      "POST",
      `/v1/runs/${id}/artifacts`,
      { authorization: `Bearer ${token}`, "content-type": "application/json" },
      JSON.stringify({ path: "ok/model.bin", sizeBytes: 4, sha256: sha256Hex("evil") }),
    );
    expect(declared.status).toBe(201);
    expect((await put("ok/model.bin")).status).toBe(201);
    const files = readdirSync(tmp, { recursive: true }).map(String);
    expect(files.filter((f) => f.includes("escape"))).toEqual([]);
    expect(files).toContain(path.join("a", "b", "artifacts", id, "ok", "model.bin"));
  });

  it("dataset download: the token is the only handle; paths in it or after the route go nowhere", async () => {
    const minted = await mintDatasetToken(
      { prisma: h.db.prisma, clock, config: h.config },
      { deploymentId: owner.deployment },
    );
    secrets.push(minted.token);
    for (const p of [
      "/v1/datasets/download?token=../../../etc/passwd",
      "/v1/datasets/download?token=%2e%2e%2fetc%2fpasswd",
      "/v1/datasets/download/../../../etc/passwd",
    ]) {
      const res = await raw("GET", p, {});
      expect([p, res.status]).toEqual([p, expect.any(Number)]);
      expect(res.status === 401 || res.status === 404).toBe(true);
      expect(res.body).not.toContain("root:");
    }
  });
});

it("no API key or token appears in any log line or error body", () => {
  expect(secrets.length).toBeGreaterThan(5);
  expect(leakedSecrets(h.logs, secrets)).toEqual([]);
  expect(leakedSecrets(bodies, secrets)).toEqual([]);
});
