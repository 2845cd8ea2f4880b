import { FaultInjector } from "../src/faults";
import { defaultFaults } from "../src/config";
import { KEY, call, podBody, startSim, type ApiPod, type Problem } from "./helpers";

describe("runpod-sim fault injection", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ seed: 42, bootDelayMs: 60_000 });
  });
  afterAll(() => sim.close());
  const setFaults = (faults: Record<string, unknown>) => call(sim.url, "PATCH", "/admin/config", { faults }, null);
  afterEach(async () => {
    await setFaults({
      rateLimit: 0,
      serverError: 0,
      slow: 0,
      drop: 0,
      omitFromList: 0,
      createThenFail: 0,
      methods: [],
      routes: [],
    });
    await call(sim.url, "POST", "/admin/reset", undefined, null);
  });
  const stats = async () =>
    (
      await call<{
        faults: Record<string, number>;
        calls: Record<string, number>;
        creates: Record<string, Record<string, number>>;
      }>(sim.url, "GET", "/admin/stats", undefined, null)
    ).body;

  it("rateLimit 1: every /v2 call is a 429 problem with Retry-After; /admin is never faulted", async () => {
    await setFaults({ rateLimit: 1, retryAfterSeconds: 3 });
    const res = await call<Problem>(sim.api, "GET", "/pods");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(res.body).toMatchObject({ title: "Too Many Requests", status: 429 });
    expect((await call(sim.url, "GET", "/admin/pods", undefined, null)).status).toBe(200);
    const s = await stats();
    expect(s.faults.rateLimit).toBeGreaterThanOrEqual(1);
    expect(s.calls["GET /v2/pods 429"]).toBeGreaterThanOrEqual(1);
  });

  it("serverError 1: answers 500 (problem+json), 502 or 503", async () => {
    await setFaults({ serverError: 1 });
    const statuses = new Set<number>();
    for (let i = 0; i < 30; i += 1) {
      const res = await call(sim.api, "GET", "/pods");
      statuses.add(res.status);
      if (res.status === 500) expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    expect([...statuses].sort()).toEqual([500, 502, 503]);
  });

  it("slow 1 delays and then answers normally; drop 1 destroys the connection", async () => {
    await setFaults({ slow: 1, slowMs: 200 });
    expect((await call(sim.api, "GET", "/pods")).status).toBe(200);
    expect((await stats()).faults.slow).toBe(1);
    await setFaults({ slow: 0, drop: 1 });
    await expect(fetch(`${sim.api}/pods`, { headers: { authorization: `Bearer ${KEY}` } })).rejects.toThrow(
      /fetch failed/,
    );
    const after = await stats();
    expect(after.faults.drop).toBe(1);
    expect(after.calls["GET /v2/pods dropped"]).toBe(1);
  });

  it("can be restricted to methods and v2 route templates", async () => {
    await setFaults({ rateLimit: 1, methods: ["POST"], routes: ["/v2/pods"] });
    expect((await call(sim.api, "GET", "/pods")).status).toBe(200);
    expect((await call(sim.api, "GET", "/pods/unknownpod0000")).status).toBe(404);
    expect((await call(sim.api, "POST", "/pods", {})).status).toBe(429);
  });

  it("omitFromList leaves live pods out of GET /v2/pods while GET /v2/pods/{id} still finds them", async () => {
    const ids = await Promise.all(
      [1, 2, 3].map(async () => (await call<ApiPod>(sim.api, "POST", "/pods", podBody())).body.id),
    );
    await setFaults({ omitFromList: 1 });
    expect((await call<{ pods: ApiPod[] }>(sim.api, "GET", "/pods")).body.pods).toEqual([]);
    for (const id of ids) expect((await call(sim.api, "GET", `/pods/${id}`)).status).toBe(200);
    expect((await stats()).faults.omitFromList).toBe(3);
    await setFaults({ omitFromList: 0.5 });
    const seen = new Set<number>();
    for (let i = 0; i < 20; i += 1)
      seen.add((await call<{ pods: ApiPod[] }>(sim.api, "GET", "/pods")).body.pods.length);
    expect(seen.size).toBeGreaterThan(1);
  });

  it("createThenFail: the pod is created but the answer is a 500; it can be adopted by name", async () => {
    await setFaults({ createThenFail: 1 });
    const res = await call<Problem>(sim.api, "POST", "/pods", podBody({ name: "adopt-me" }, "NVIDIA A40"));
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ title: "Internal Server Error", status: 500 });
    const pods = (await call<{ pods: ApiPod[] }>(sim.api, "GET", "/pods")).body.pods;
    expect(pods.map((p) => p.name)).toEqual(["adopt-me"]);
    const s = await stats();
    expect(s.faults.createThenFail).toBe(1);
    expect(s.creates["NVIDIA A40"]).toEqual({ "500": 1 });
  });

  it("rejects a bad fault setting with 400", async () => {
    expect((await setFaults({ rateLimit: 2 })).status).toBe(400);
    expect((await setFaults({ omitFromList: -0.1 })).status).toBe(400);
    expect((await setFaults({ teleport: 0.5 })).status).toBe(400);
  });

  it("is reproducible for a given seed", () => {
    const config = { ...defaultFaults(), rateLimit: 0.3, serverError: 0.3, drop: 0.2, slow: 0.5 };
    const run = (): string[] => {
      const injector = new FaultInjector(7);
      return Array.from({ length: 50 }, () => JSON.stringify(injector.decide(config, "GET", "/v2/pods")));
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(3);
  });
});
