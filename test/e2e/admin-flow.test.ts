import { createUserWithKey } from "@trainpod/core";
import { startSystem, type System } from "../support/system";
import { TestClient, until, type Json } from "./support/client";

/* The operators' endpoints against the whole system: a real failed run, its retry, a cancel, stats and metrics. */
let sys: System;
let alice: TestClient;
let adminAuth: string;

beforeAll(async () => {
  sys = await startSystem();
  alice = await TestClient.create(sys, "alice@example.com");
  const { key } = await createUserWithKey(sys.db.prisma, { email: "ops@example.com", role: "ADMIN" });
  // a script's credential: Bearer (HTTP Basic is accepted for reads only)
  adminAuth = `Bearer ${key}`;
}, 60_000);
afterAll(async () => {
  await sys?.stop();
});

async function admin(method: string, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sys.apiUrl}${path}`, { method, headers: { authorization: adminAuth } });
  return { status: res.status, body: (await res.json()) as Json };
}

const workerMetrics = () => sys.worker.metrics.registry.metrics();

describe("the dashboard's endpoints on a running system", () => {
  it("a failed run is listed, costed and retried: the retry is a new deployment that really deploys", async () => {
    const sub = await alice.submit({ steps: 4, sim_step_ms: 30, sim_fail_at_step: 2, sim_exit_code: 7 });
    const failed = await alice.settled(sub.body.id);
    expect(failed.status).toBe("FAILED");
    const list = await admin("GET", "/v1/admin/deployments?status=FAILED");
    const row = list.body.items.find((d: Json) => d.id === failed.id);
    expect(row).toMatchObject({ failureReason: "TRAINING_FAILED", exitCode: 7, costUsd: failed.costUsd });
    expect(row.lastLogLines.length).toBeGreaterThan(0);

    const retry = await admin("POST", `/v1/admin/deployments/${failed.id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body.retryOfId).toBe(failed.id);
    // the retry belongs to the same user and goes through the pipeline (same request: it fails the same way)
    const again = await alice.settled(retry.body.id);
    expect(again).toMatchObject({ status: "FAILED", exitCode: 7, retryOfId: failed.id });
    expect(again.pod.id).not.toBe(failed.pod.id);

    const text = await workerMetrics();
    expect(text).toMatch(/trainpod_failure_to_termination_seconds_count\{service="worker"\} [2-9]/);
    expect(text).toMatch(
      /trainpod_runpod_api_calls_total\{endpoint="\/pods",method="POST",status="20\d",service="worker"\} [2-9]/,
    );
    expect(text).toMatch(
      /trainpod_runpod_api_calls_total\{endpoint="\/pods\/\{id\}",method="DELETE",status="20\d",service="worker"\} [2-9]/,
    );
    expect(text).toMatch(/trainpod_pod_cost_micro_usd_total\{status="FAILED",service="worker"\} [1-9]/);

    const stats = await admin("GET", "/v1/stats");
    expect(stats.body.deployments.byStatus.FAILED).toBe(2);
    expect(stats.body.failedCost.count).toBe(2);
    const sum = await sys.db.prisma.deployment.aggregate({ where: { status: "FAILED" }, _sum: { costMicros: true } });
    expect(Math.round(Number(stats.body.failedCost.totalUsd) * 1e6)).toBe(Number(sum._sum.costMicros));
    expect(stats.body.retries.terminateAttempts).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it("cancel from the dashboard terminates a running pod", async () => {
    const sub = await alice.submit({ steps: 200, sim_step_ms: 100 });
    await until("running", async () => (await alice.get(sub.body.id)).status === "RUNNING");
    const c = await admin("POST", `/v1/admin/deployments/${sub.body.id}/cancel`);
    expect(c.status).toBe(202);
    expect(c.body.status).toBe("CANCELLED");
    const d = await alice.settled(sub.body.id);
    expect((await alice.simPod(d.pod.id)).status).toBe("TERMINATED");
    expect((await admin("POST", `/v1/admin/deployments/${sub.body.id}/cancel`)).status).toBe(409);
  }, 40_000);
});
