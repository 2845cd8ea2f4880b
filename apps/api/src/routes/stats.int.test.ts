import request from "supertest";
import { ManualClock } from "@trainpod/core";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";

/*
 * Seeded window 2026-01-01 .. 2026-03-01, known answers worked out by hand:
 * failed costs $1, $3 (January) and $2, $10 (February); one $99 failure outside the window.
 */
let h: ApiHarness;
let adminKey: string;
const NOW = new Date("2026-03-10T00:00:00Z");
const at = (iso: string, plusSeconds = 0) => new Date(new Date(iso).getTime() + plusSeconds * 1000);
const USD = 1_000_000n;

beforeAll(async () => {
  h = await startTestApi({ clock: new ManualClock(NOW.getTime()) });
  adminKey = (await makeUser(h.db.prisma, { role: "ADMIN" })).key;
  const { user } = await makeUser(h.db.prisma);
  const owner = { userId: user.id, datasetId: (await makeDataset(h.db.prisma, user.id)).id };
  const p = h.db.prisma;
  const jan = "2026-01-10T12:00:00Z";
  const feb = "2026-02-10T12:00:00Z";
  await makeDeployment(p, owner, {
    createdAt: at(jan),
    status: "FAILED",
    failureReason: "TRAINING_FAILED",
    costMicros: 1n * USD,
    runtimeSeconds: 100,
    runningAt: at(jan, 20),
    attempts: 3,
    terminateAttempts: 1,
  });
  await makeDeployment(p, owner, {
    createdAt: at(jan, 60),
    status: "FAILED",
    failureReason: "TRAINING_FAILED",
    costMicros: 3n * USD,
    runtimeSeconds: 200,
    runningAt: at(jan, 90),
    attempts: 1,
    terminateAttempts: 2,
  });
  // RunPod's bill read for this one: $5.25 against our $5 (over the default $0.01 threshold)
  await makeDeployment(p, owner, {
    createdAt: at(jan, 120),
    status: "SUCCEEDED",
    costMicros: 5n * USD,
    runtimeSeconds: 1000,
    runningAt: at(jan, 130),
    trainingStartedAt: at(jan, 135),
    attempts: 1,
    terminateAttempts: 1,
    podId: "pod-s1",
    podTerminatedAt: at(jan, 1200),
    runpodBilledMicros: 5_250_000n,
    runpodBilledAt: at(jan, 3600),
  });
  await makeDeployment(p, owner, {
    createdAt: at(feb),
    status: "FAILED",
    failureReason: "SETUP_TIMEOUT",
    costMicros: 2n * USD,
    runtimeSeconds: 300,
    attempts: 1,
    terminateAttempts: 3,
  });
  await makeDeployment(p, owner, {
    createdAt: at(feb, 60),
    status: "FAILED",
    failureReason: "NO_CAPACITY",
    costMicros: 10n * USD,
    runtimeSeconds: 400,
    attempts: 5,
    capacityWaits: 4,
  });
  await makeDeployment(p, owner, { createdAt: at(feb, 120), status: "CANCELLED" });
  await makeDeployment(p, owner, {
    createdAt: at(feb, 180),
    status: "RUNNING",
    runningAt: at(feb, 220),
    trainingStartedAt: at(feb, 225),
    attempts: 2,
    capacityWaits: 1,
  });
  await makeDeployment(p, owner, {
    createdAt: at("2025-12-31T23:59:59Z"),
    status: "FAILED",
    failureReason: "TRAINING_FAILED",
    costMicros: 99n * USD,
    runtimeSeconds: 9999,
    attempts: 9,
  });
  const token = (createdAt: Date, over: object) =>
    p.datasetDownloadToken.create({
      data: {
        tokenHash: `h${Math.random()}`,
        datasetId: owner.datasetId,
        userId: user.id,
        expiresAt: at("2026-03-20T00:00:00Z"),
        createdAt,
        ...over,
      },
    });
  await token(at(jan), { usedAt: at(jan, 5), claimedAt: at(jan, 1) });
  await token(at(jan), { expiresAt: at("2026-01-11T00:00:00Z") });
  await token(at(feb), {});
  await token(at(feb), { revokedAt: at(feb, 9) });
  await token(at("2025-12-01T00:00:00Z"), {});
});
afterAll(async () => {
  await h?.close();
});

const stats = (query: string) => request(h.app).get(`/v1/stats?${query}`).set("authorization", `Bearer ${adminKey}`);

describe("GET /v1/stats on seeded data", () => {
  let body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  beforeAll(async () => {
    body = (await stats("from=2026-01-01&to=2026-03-01T00:00:00Z&groupBy=month").expect(200)).body;
  });

  it("counts by status and the success rate over finished outcomes (1 of 5)", () => {
    expect(body.window).toEqual({ from: "2026-01-01T00:00:00.000Z", to: "2026-03-01T00:00:00.000Z", groupBy: "month" });
    expect(body.deployments).toEqual({
      total: 7,
      byStatus: { CANCELLED: 1, FAILED: 4, RUNNING: 1, SUCCEEDED: 1 },
      successRate: 0.2,
    });
  });

  it("failed-deployment cost: mean, p50, p95 and total waste, per month and overall", () => {
    expect(body.failedCost).toEqual({
      count: 4,
      totalUsd: "16.000000",
      meanUsd: "4.000000",
      p50Usd: "2.000000",
      p95Usd: "10.000000",
      byPeriod: [
        {
          period: "2026-01-01T00:00:00.000Z",
          count: 2,
          totalUsd: "4.000000",
          meanUsd: "2.000000",
          p50Usd: "1.000000",
          p95Usd: "3.000000",
        },
        {
          period: "2026-02-01T00:00:00.000Z",
          count: 2,
          totalUsd: "12.000000",
          meanUsd: "6.000000",
          p50Usd: "2.000000",
          p95Usd: "10.000000",
        },
      ],
    });
  });

  it("setup time percentiles: created → running and created → training started", () => {
    expect(body.setupSeconds).toEqual({
      createdToRunning: { count: 4, p50: 20, p90: 40, p95: 40, p99: 40 },
      createdToTrainingStarted: { count: 2, p50: 15, p90: 45, p95: 45, p99: 45 },
    });
  });

  it("average runtime by status, failure reasons with their cost, retries and token usage", () => {
    expect(body.runtimeByStatus).toEqual([
      { status: "FAILED", count: 4, avgSeconds: 250, totalSeconds: 1000 },
      { status: "SUCCEEDED", count: 1, avgSeconds: 1000, totalSeconds: 1000 },
    ]);
    expect(body.failureReasons).toEqual([
      { reason: "TRAINING_FAILED", count: 2, costUsd: "4.000000" },
      { reason: "NO_CAPACITY", count: 1, costUsd: "10.000000" },
      { reason: "SETUP_TIMEOUT", count: 1, costUsd: "2.000000" },
    ]);
    expect(body.retries).toEqual({
      deployAttempts: 13,
      deploymentsRetried: 3,
      terminateAttempts: 7,
      terminationsRetried: 2,
      capacityWaits: 5,
      deploymentsThatWaitedForCapacity: 2,
    });
    expect(body.tokens).toEqual({ minted: 4, used: 1, expiredUnused: 1, active: 1, revokedUnused: 1 });
    expect(body.runpodBilling).toEqual({
      deploymentsRead: 1,
      ourCostUsd: "5.000000",
      runpodBilledUsd: "5.250000",
      differenceUsd: "0.250000",
      overThreshold: 1,
      notReadYet: 0,
    });
  });

  it("groups waste by day, and an empty window answers zeros and nulls", async () => {
    const byDay = (await stats("from=2026-02-01&to=2026-03-01&groupBy=day").expect(200)).body;
    expect(byDay.failedCost.byPeriod).toEqual([
      {
        period: "2026-02-10T00:00:00.000Z",
        count: 2,
        totalUsd: "12.000000",
        meanUsd: "6.000000",
        p50Usd: "2.000000",
        p95Usd: "10.000000",
      },
    ]);
    const empty = (await stats("from=2020-01-01&to=2020-02-01").expect(200)).body;
    expect(empty.deployments).toEqual({ total: 0, byStatus: {}, successRate: null });
    expect(empty.failedCost).toEqual({
      count: 0,
      totalUsd: "0.000000",
      meanUsd: null,
      p50Usd: null,
      p95Usd: null,
      byPeriod: [],
    });
    expect(empty.setupSeconds.createdToRunning).toEqual({ count: 0, p50: null, p90: null, p95: null, p99: null });
  });

  it("defaults to the 30 days before now", async () => {
    const res = (await stats("").expect(200)).body;
    expect(res.window).toEqual({ from: "2026-02-08T00:00:00.000Z", to: NOW.toISOString(), groupBy: "month" });
    expect(res.deployments.total).toBe(4);
  });

  it.each([
    "from=yesterday",
    "groupBy=year",
    "from=2026-02-01&to=2026-01-01",
    "from=2020-01-01&to=2026-01-01",
    "extra=1",
  ])("rejects %s with 400", async (q) => {
    const res = await stats(q).expect(400);
    expect(res.body.error.code).toBe("VALIDATION_FAILED");
  });
});
