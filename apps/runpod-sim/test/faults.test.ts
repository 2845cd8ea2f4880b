import { FaultInjector } from "../src/faults";
import { defaultFaults } from "../src/config";
import { KEY, call, startSim } from "./helpers";

describe("runpod-sim fault injection", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ seed: 42 });
  });
  afterAll(() => sim.close());
  const setFaults = (faults: Record<string, unknown>) => call(sim.url, "PATCH", "/admin/config", { faults }, null);
  afterEach(async () => {
    await setFaults({ rateLimit: 0, serverError: 0, slow: 0, drop: 0, methods: [], routes: [] });
  });
  const stats = async () => (await call<{ faults: Record<string, number>; calls: Record<string, number> }>(sim.url, "GET", "/admin/stats", undefined, null)).body;

  it("rateLimit 1: every /v1 call is a 429 with Retry-After; /admin is never faulted", async () => {
    await setFaults({ rateLimit: 1, retryAfterSeconds: 3 });
    const res = await call(sim.api, "GET", "/pods");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(res.body).toEqual({ error: expect.any(String), status: 429 });
    expect((await call(sim.url, "GET", "/admin/pods", undefined, null)).status).toBe(200);
    const s = await stats();
    expect(s.faults.rateLimit).toBeGreaterThanOrEqual(1);
    expect(s.calls["GET /pods 429"]).toBeGreaterThanOrEqual(1);
  });

  it("serverError 1: answers 500, 502 or 503", async () => {
    await setFaults({ serverError: 1 });
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i += 1) statuses.add((await call(sim.api, "GET", "/pods")).status);
    expect([...statuses].sort()).toEqual([500, 502, 503]);
  });

  it("slow 1: delays the answer by slowMs, then answers normally", async () => {
    await setFaults({ slow: 1, slowMs: 300 });
    const started = performance.now();
    const res = await call(sim.api, "GET", "/pods");
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("drop 1: the connection is destroyed without an answer", async () => {
    await setFaults({ drop: 1 });
    const before = (await stats()).faults.drop ?? 0;
    await expect(fetch(`${sim.api}/pods`, { headers: { authorization: `Bearer ${KEY}` } })).rejects.toThrow(/fetch failed/);
    const after = await stats();
    expect(after.faults.drop).toBe(before + 1);
    expect(after.calls["GET /pods dropped"]).toBeGreaterThanOrEqual(1);
  });

  it("can be restricted to methods and routes", async () => {
    await setFaults({ rateLimit: 1, methods: ["POST"], routes: ["/pods"] });
    expect((await call(sim.api, "GET", "/pods")).status).toBe(200);
    expect((await call(sim.api, "GET", "/pods/unknownpod0000")).status).toBe(404);
    expect((await call(sim.api, "POST", "/pods", {})).status).toBe(429);
  });

  it("rejects a bad fault setting with 400", async () => {
    expect((await setFaults({ rateLimit: 2 })).status).toBe(400);
    expect((await setFaults({ teleport: 0.5 })).status).toBe(400);
  });

  it("is reproducible for a given seed", () => {
    const config = { ...defaultFaults(), rateLimit: 0.3, serverError: 0.3, drop: 0.2, slow: 0.5 };
    const run = (): string[] => {
      const injector = new FaultInjector(7);
      return Array.from({ length: 50 }, () => JSON.stringify(injector.decide(config, "GET", "/pods")));
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(3);
  });
});
