import { call, podBody, sleep, startSim, type Problem } from "./helpers";

const RATE_LIMIT = /^"minute";r=(\d+);t=(\d+), "hour";r=(\d+);t=(\d+), "day";r=(\d+);t=(\d+)$/;

describe("runpod-sim per-account quota (RateLimit headers, 429 + Retry-After)", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ quota: { minute: 5, hour: 3000, day: 50000 } });
  });
  afterAll(() => sim.close());

  it("puts RateLimit and RateLimit-Policy on every authenticated answer, then refuses past the minute quota", async () => {
    // windows are fixed (aligned to the clock): do not straddle a minute boundary
    const second = new Date().getUTCSeconds();
    if (second >= 55) await sleep((61 - second) * 1000);
    const answers = [
      await call(sim.api, "GET", "/pods"),
      await call(sim.api, "POST", "/pods", podBody({ bogus: 1 })),
      await call(sim.api, "GET", "/pods/nosuchpod"),
      await call(sim.api, "GET", "/catalog/gpus"),
      await call(sim.api, "GET", "/billing/pods"),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 422, 404, 200, 200]);
    answers.forEach((a, i) => {
      expect(a.headers.get("ratelimit-policy")).toBe('"minute";q=5;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400');
      const m = RATE_LIMIT.exec(a.headers.get("ratelimit") ?? "");
      expect(m).not.toBeNull();
      expect([Number(m?.[1]), Number(m?.[3]), Number(m?.[5])]).toEqual([4 - i, 2999 - i, 49999 - i]);
      expect(Number(m?.[2])).toBeGreaterThanOrEqual(1);
      expect(Number(m?.[2])).toBeLessThanOrEqual(60);
    });
    const refused = await call<Problem>(sim.api, "GET", "/pods");
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      title: "Too Many Requests",
      status: 429,
      detail: "rate limit exceeded for the minute window",
    });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(refused.headers.get("ratelimit")).toMatch(/^"minute";r=0;t=\d+, "hour";r=2995;/);
    // refused calls do not count; /admin is never limited; 401s carry no quota headers
    expect((await call(sim.api, "GET", "/pods")).headers.get("ratelimit")).toMatch(/"hour";r=2995;/);
    expect((await call(sim.url, "GET", "/admin/pods", undefined, null)).status).toBe(200);
    const anonymous = await call(sim.api, "GET", "/pods", undefined, null);
    expect([anonymous.status, anonymous.headers.get("ratelimit")]).toEqual([401, null]);
    const stats = (
      await call<{ rateLimited: number; calls: Record<string, number> }>(
        sim.url,
        "GET",
        "/admin/stats",
        undefined,
        null,
      )
    ).body;
    expect(stats.rateLimited).toBe(2);
    expect(stats.calls["GET /v2/pods 429"]).toBe(2);
    // raising the quota lets calls through again
    expect((await call(sim.url, "PATCH", "/admin/config", { quota: { minute: 100 } }, null)).status).toBe(200);
    expect((await call(sim.api, "GET", "/pods")).status).toBe(200);
    expect((await call(sim.url, "PATCH", "/admin/config", { quota: { minute: 0 } }, null)).status).toBe(400);
  });
});
