import { createUserWithKey, mintRunToken } from "@trainpod/core";
import { startApi, type RunningApi } from "../start-api";
import { makeDataset } from "../../../../test/factories";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { captureLogger } from "../../../../test/support/test-config";
import { deletePrefix, TEST_REDIS_URL } from "../../../../test/support/test-redis";

// one API replica from the harness, a second one here: same Redis, same prefix, same database
let a: ApiHarness;
let b: RunningApi;
let key: string;

beforeAll(async () => {
  a = await startTestApi({ env: { RATE_LIMIT_PER_MINUTE: "6", RATE_LIMIT_RUN_PER_MINUTE: "3" } });
  // the second replica: the same startApi, its own port
  b = await startApi(
    { ...a.config, env: { ...a.config.env, API_PORT: 0 } },
    { logger: captureLogger("api-b").logger, prisma: a.db.prisma, clock: a.clock },
  );
  key = (await createUserWithKey(a.db.prisma, { email: "limits@example.com" })).key;
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const get = (base: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });

describe("security headers (helmet)", () => {
  it("every answer carries them, errors included", async () => {
    for (const path of ["/healthz", "/v1/deployments", "/no/such/route"]) {
      const res = await get(a.url, path);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });
});

describe("JSON answers", () => {
  it("carry no ETag: Express would hash every answer (SHA-1 of the body) for a validator no client of ours sends", async () => {
    for (const path of ["/healthz", "/v1/deployments", "/no/such/route"]) {
      const res = await get(a.url, path);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("etag")).toBeNull();
    }
  });
});

describe("rate limiting, shared through Redis by every API replica", () => {
  it("the limit counts requests to both replicas together; the next is 429 in our error shape with Retry-After", async () => {
    await deletePrefix(`${a.config.env.QUEUE_PREFIX}:rl:ip`); // the header test's requests counted too
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await get(i % 2 === 0 ? a.url : b.url, "/v1/deployments")).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    for (const base of [a.url, b.url]) {
      const res = await get(base, "/v1/deployments");
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await res.json()).toEqual({
        error: { code: "RATE_LIMITED", message: expect.any(String), details: { limit: 6, windowSeconds: 60 } },
      });
    }
    // health checks are never limited
    expect((await get(b.url, "/healthz")).status).toBe(200);
  });

  it("the pod's routes count per deployment (once its run token holds), not per address", async () => {
    // an unauthenticated request counts per IP instead, before its token is checked: run-limits.int.test.ts
    const u = await createUserWithKey(a.db.prisma, { email: "pods@example.com" });
    const dataset = (await makeDataset(a.db.prisma, u.user.id)).id;
    const pod = async () => {
      const id = await insertDeployment(a, u.user.id, dataset);
      return {
        id,
        token: (await mintRunToken({ prisma: a.db.prisma, clock: a.clock, config: a.config }, { deploymentId: id }))
          .token,
      };
    };
    const [one, two] = [await pod(), await pod()];
    const post = (base: string, p: { id: string; token: string }) =>
      fetch(`${base}/v1/runs/${p.id}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${p.token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "log", lines: ["hi"] }),
      });
    const first = [await post(a.url, one), await post(b.url, one), await post(a.url, one)].map((r) => r.status);
    expect(first).toEqual([202, 202, 202]);
    expect((await post(b.url, one)).status).toBe(429);
    expect((await post(a.url, two)).status).toBe(202);
  });

  it("keeps its counters under the app's prefix", async () => {
    const { Redis } = await import("ioredis");
    const r = new Redis(TEST_REDIS_URL);
    try {
      // every page of the scan: one page of COUNT 1000 covers only part of a shared Redis's keys
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, page] = await r.scan(cursor, "MATCH", `${a.config.env.QUEUE_PREFIX}:rl:*`, "COUNT", 1000);
        keys.push(...page);
        cursor = next;
      } while (cursor !== "0");
      expect(keys.length).toBeGreaterThanOrEqual(2);
    } finally {
      r.disconnect();
    }
  });
});
