import { adminPod, call, podBody, sleep, startSim, type ApiPod, type Problem } from "./helpers";

interface Billing {
  records: Array<{
    startTime: string;
    endTime: string;
    podId: string;
    totalAmount: number;
    gpuAmount: number;
    cpuAmount: number;
    diskAmount: number;
  }>;
  metadata: {
    query: { startTime: string; endTime: string; bucketSize: string; podId: string | null };
    recordCount: number;
    uniquePodCount: number;
    totals: Record<string, number>;
  };
}

describe("runpod-sim GET /v2/billing/pods", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 0 });
  });
  afterAll(() => sim.close());
  const billing = (query: string) => call<Billing & Problem>(sim.api, "GET", `/billing/pods${query}`);

  it("bills a terminated pod exactly what the sim's meter accrued, per pod per bucket", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({}, "NVIDIA H100 80GB HBM3", 2))).body;
    await sleep(1200);
    expect((await call(sim.api, "DELETE", `/pods/${pod.id}`)).status).toBe(204);
    const meter = await adminPod(sim, pod.id);
    expect(meter.billedSeconds).toBeGreaterThanOrEqual(2);
    const res = await billing(`?podId=${pod.id}&bucketSize=year`);
    expect(res.status).toBe(200);
    expect(res.body.records).toEqual([
      {
        startTime: expect.stringMatching(/-01-01T00:00:00Z$/),
        endTime: expect.stringMatching(/-01-01T00:00:00Z$/),
        podId: pod.id,
        totalAmount: expect.any(Number),
        gpuAmount: expect.any(Number),
        cpuAmount: 0,
        diskAmount: 0,
      },
    ]);
    const record = res.body.records[0];
    expect(Math.abs((record?.gpuAmount ?? 0) * 1e6 - meter.accruedCostMicros)).toBeLessThanOrEqual(1);
    expect(record?.totalAmount).toBe(record?.gpuAmount);
    expect(res.body.metadata).toMatchObject({
      recordCount: 1,
      uniquePodCount: 1,
      query: { bucketSize: "year", podId: pod.id },
      totals: { gpuAmount: record?.gpuAmount },
    });
    // hour buckets split the same seconds without changing the sum
    const hourly = (await billing(`?podId=${pod.id}&bucketSize=hour&lastN=2`)).body.records;
    const sum = hourly.reduce((s, r) => s + r.gpuAmount * 1e6, 0);
    expect(Math.abs(sum - meter.accruedCostMicros)).toBeLessThanOrEqual(hourly.length);
  });

  it("snaps the window to bucket boundaries and checks its parameters", async () => {
    const res = await billing("?startTime=2026-06-01T10:30:00Z&endTime=2026-06-03T01:00:00Z");
    expect(res.status).toBe(200);
    expect(res.body.metadata.query).toEqual({
      startTime: "2026-06-01T00:00:00Z",
      endTime: "2026-06-04T00:00:00Z",
      bucketSize: "day",
      podId: null,
    });
    expect((await billing("?lastN=3&startTime=2026-06-01T00:00:00Z")).status).toBe(400);
    expect((await billing("?bucketSize=fortnight")).status).toBe(422);
    expect((await billing("?startTime=yesterday")).status).toBe(422);
    expect((await billing("?lastN=0")).status).toBe(422);
  });

  it("lags: usage within billingLagMs is not reported yet", async () => {
    expect((await call(sim.url, "PATCH", "/admin/config", { billingLagMs: 3_600_000 }, null)).status).toBe(200);
    try {
      const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody())).body;
      await sleep(1100);
      expect((await adminPod(sim, pod.id)).accruedCostMicros).toBeGreaterThan(0);
      const hidden = await billing(`?podId=${pod.id}&lastN=1`);
      expect(hidden.body.records).toEqual([]);
      await call(sim.url, "PATCH", "/admin/config", { billingLagMs: 0 }, null);
      expect((await billing(`?podId=${pod.id}&lastN=1`)).body.records).toHaveLength(1);
      await call(sim.api, "DELETE", `/pods/${pod.id}`);
    } finally {
      await call(sim.url, "PATCH", "/admin/config", { billingLagMs: 0 }, null);
    }
  });
});
