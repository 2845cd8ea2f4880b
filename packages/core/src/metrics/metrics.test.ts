import {
  createMetrics,
  monitorObserver,
  podTerminatedObserver,
  reconcileObserver,
  runpodCallObserver,
} from "./metrics";

describe("metrics observers", () => {
  it("counts RunPod calls by endpoint, method and status, with a latency histogram", async () => {
    const m = createMetrics("worker");
    const observe = runpodCallObserver(m);
    observe({ endpoint: "/pods", method: "POST", status: 201, durationMs: 120, attempt: 1 });
    observe({ endpoint: "/pods/{podId}", method: "DELETE", status: 429, durationMs: 30, attempt: 1 });
    observe({ endpoint: "/pods/{podId}", method: "DELETE", status: "timeout", durationMs: 10_000, attempt: 2 });
    const text = await m.registry.metrics();
    expect(text).toContain(
      'trainpod_runpod_api_calls_total{endpoint="/pods",method="POST",status="201",service="worker"} 1',
    );
    expect(text).toContain(
      'trainpod_runpod_api_calls_total{endpoint="/pods/{podId}",method="DELETE",status="timeout",service="worker"} 1',
    );
    expect(text).toContain(
      'trainpod_runpod_api_call_duration_seconds_count{service="worker",endpoint="/pods/{podId}",method="DELETE"} 2',
    );
    expect(text).toContain(
      'trainpod_runpod_api_call_duration_seconds_bucket{le="0.25",service="worker",endpoint="/pods",method="POST"} 1',
    );
  });

  it("adds terminated pods' cost by status and observes failure-to-termination latency of failed ones only", async () => {
    const m = createMetrics("worker");
    const observe = podTerminatedObserver(m);
    const t = new Date("2026-01-01T00:00:10Z");
    observe({
      deploymentId: "a",
      status: "FAILED",
      finishedAt: new Date("2026-01-01T00:00:09.700Z"),
      terminatedAt: t,
      costMicros: 1500n,
    });
    observe({
      deploymentId: "b",
      status: "SUCCEEDED",
      finishedAt: new Date("2026-01-01T00:00:00Z"),
      terminatedAt: t,
      costMicros: 2500n,
    });
    const text = await m.registry.metrics();
    expect(text).toContain('trainpod_pod_cost_micro_usd_total{status="FAILED",service="worker"} 1500');
    expect(text).toContain('trainpod_pod_cost_micro_usd_total{status="SUCCEEDED",service="worker"} 2500');
    expect(text).toContain('trainpod_failure_to_termination_seconds_count{service="worker"} 1');
    expect(text).toContain('trainpod_failure_to_termination_seconds_bucket{le="0.25",service="worker"} 0');
    expect(text).toContain('trainpod_failure_to_termination_seconds_bucket{le="0.5",service="worker"} 1');
  });

  it("counts what the monitor and reconcile did", async () => {
    const m = createMetrics("worker");
    monitorObserver(m)({
      pods: 3,
      live: 3,
      running: 0,
      requeued: 2,
      listingMisses: 4,
      swept: ["d"],
      failed: [
        { deploymentId: "a", reason: "POD_VANISHED" },
        { deploymentId: "b", reason: "POD_VANISHED" },
        { deploymentId: "c", reason: "HEARTBEAT_TIMEOUT" },
      ],
    });
    reconcileObserver(m)({ pods: 5, orphansTerminated: ["p1", "p2", "p3"], terminationsRequeued: 1 });
    reconcileObserver(m)({ pods: 0, orphansTerminated: [], terminationsRequeued: 0 });
    const text = await m.registry.metrics();
    expect(text).toContain(
      'trainpod_lifecycle_actions_total{action="deployment_failed",reason="POD_VANISHED",service="worker"} 2',
    );
    expect(text).toContain(
      'trainpod_lifecycle_actions_total{action="deployment_failed",reason="HEARTBEAT_TIMEOUT",service="worker"} 1',
    );
    expect(text).toContain('trainpod_lifecycle_actions_total{action="queued_requeued",reason="",service="worker"} 2');
    expect(text).toContain(
      'trainpod_lifecycle_actions_total{action="listing_miss_confirmed",reason="",service="worker"} 4',
    );
    expect(text).toContain(
      'trainpod_lifecycle_actions_total{action="overdue_termination",reason="",service="worker"} 1',
    );
    expect(text).toContain('trainpod_lifecycle_actions_total{action="orphan_terminated",reason="",service="worker"} 3');
    expect(text).toContain(
      'trainpod_lifecycle_actions_total{action="termination_requeued",reason="",service="worker"} 1',
    );
  });
});
