import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";
import type { PodTerminatedInfo } from "../lifecycle/lifecycle-deps";
import type { MonitorResult } from "../lifecycle/monitor-tick";
import type { ReconcileResult } from "../lifecycle/reconcile-pods";
import type { RunPodCallInfo } from "../runpod";

/** trainpod's Prometheus metrics: one registry per process (api or worker), built once at start. */
export interface Metrics {
  registry: Registry;
  runpodCalls: Counter<"endpoint" | "method" | "status">;
  runpodCallSeconds: Histogram<"endpoint" | "method">;
  jobOutcomes: Counter<"queue" | "outcome">;
  podCostMicros: Counter<"status">;
  failureToTerminationSeconds: Histogram;
  runpodRateWaitSeconds: Histogram<"priority">;
  /** pods of a RunPod listing that could not be read and were left out of it (each logged) */
  runpodPodsSkipped: Counter;
  lifecycleActions: Counter<"action" | "reason">;
}

/** Builds the registry (with Node's default process metrics) and trainpod's own metrics in it. */
export function createMetrics(service: "api" | "worker"): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: "trainpod_" });
  const registers = [registry];
  return {
    registry,
    runpodCalls: new Counter({
      name: "trainpod_runpod_api_calls_total",
      help: "RunPod REST calls (each HTTP attempt) by endpoint template, method and status (or timeout/network)",
      labelNames: ["endpoint", "method", "status"] as const,
      registers,
    }),
    runpodCallSeconds: new Histogram({
      name: "trainpod_runpod_api_call_duration_seconds",
      help: "Latency of RunPod REST calls (each HTTP attempt)",
      labelNames: ["endpoint", "method"] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    jobOutcomes: new Counter({
      name: "trainpod_job_outcomes_total",
      help: "Jobs finished by this process, by queue and outcome (completed, failed)",
      labelNames: ["queue", "outcome"] as const,
      registers,
    }),
    podCostMicros: new Counter({
      name: "trainpod_pod_cost_micro_usd_total",
      help: "Billed cost of terminated pods in micro-dollars, by the deployment's status",
      labelNames: ["status"] as const,
      registers,
    }),
    failureToTerminationSeconds: new Histogram({
      name: "trainpod_failure_to_termination_seconds",
      help: "From a deployment's failure (report or deadline) to its pod's confirmed termination",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    runpodRateWaitSeconds: new Histogram({
      name: "trainpod_runpod_rate_wait_seconds",
      help: "How long a RunPod call waited for the account's shared rate budget (all processes), by priority",
      labelNames: ["priority"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    runpodPodsSkipped: new Counter({
      name: "trainpod_runpod_listed_pods_skipped_total",
      help: "Pods of a RunPod listing (GET /v2/pods) that did not fit the schema and were left out of it (each one logged)",
      registers,
    }),
    lifecycleActions: new Counter({
      name: "trainpod_lifecycle_actions_total",
      help: "What the lifecycle did: deployment_failed (by reason), queued_requeued, listing_miss_confirmed, overdue_termination, orphan_terminated, termination_requeued, billing_mismatch",
      labelNames: ["action", "reason"] as const,
      registers,
    }),
  };
}

/** The RunPodRestClient `onCall` hook that feeds the RunPod call metrics. */
export function runpodCallObserver(m: Metrics): (info: RunPodCallInfo) => void {
  return (info) => {
    m.runpodCalls.inc({ endpoint: info.endpoint, method: info.method, status: String(info.status) });
    m.runpodCallSeconds.observe({ endpoint: info.endpoint, method: info.method }, info.durationMs / 1000);
  };
}

/** The terminate use case's `onPodTerminated` hook: cost counter and failure-to-termination latency. */
export function podTerminatedObserver(m: Metrics): (info: PodTerminatedInfo) => void {
  return (info) => {
    m.podCostMicros.inc({ status: info.status }, Number(info.costMicros));
    if (info.status === "FAILED" && info.finishedAt !== null) {
      m.failureToTerminationSeconds.observe(
        Math.max(0, info.terminatedAt.getTime() - info.finishedAt.getTime()) / 1000,
      );
    }
  };
}

/** The monitor tick's result → lifecycle action counters (deadline/vanished failures by reason, requeues). */
export function monitorObserver(m: Metrics): (r: MonitorResult) => void {
  return (r) => {
    for (const f of r.failed) m.lifecycleActions.inc({ action: "deployment_failed", reason: f.reason });
    if (r.requeued > 0) m.lifecycleActions.inc({ action: "queued_requeued", reason: "" }, r.requeued);
    if (r.listingMisses > 0) m.lifecycleActions.inc({ action: "listing_miss_confirmed", reason: "" }, r.listingMisses);
    if (r.swept.length > 0) m.lifecycleActions.inc({ action: "overdue_termination", reason: "" }, r.swept.length);
  };
}

/** Reconcile's result → lifecycle action counters (orphan pods terminated, terminations enqueued again). */
export function reconcileObserver(m: Metrics): (r: ReconcileResult) => void {
  return (r) => {
    if (r.orphansTerminated.length > 0)
      m.lifecycleActions.inc({ action: "orphan_terminated", reason: "" }, r.orphansTerminated.length);
    if (r.terminationsRequeued > 0)
      m.lifecycleActions.inc({ action: "termination_requeued", reason: "" }, r.terminationsRequeued);
  };
}
