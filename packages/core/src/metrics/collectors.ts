import { Gauge } from "prom-client";
import type { PrismaClient } from "../db";
import type { Queues } from "../queue/queues";
import type { Metrics } from "./metrics";

const JOB_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children", "completed", "failed"] as const;

/** Queue depth per queue and state, read from Redis at scrape time. */
export function registerQueueDepth(m: Metrics, queues: Queues): void {
  new Gauge({
    name: "trainpod_queue_jobs",
    help: "Jobs in each queue by state, at scrape time",
    labelNames: ["queue", "state"] as const,
    registers: [m.registry],
    async collect() {
      for (const [name, queue] of Object.entries(queues)) {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
      }
    },
  });
}

/** Deployments by status and money spent, from Postgres at scrape time (one query each, indexed by status). */
export function registerDeploymentGauges(m: Metrics, prisma: PrismaClient): void {
  new Gauge({
    name: "trainpod_deployments",
    help: "Deployments by status, at scrape time",
    labelNames: ["status"] as const,
    registers: [m.registry],
    async collect() {
      const rows = await prisma.deployment.groupBy({ by: ["status"], _count: { _all: true } });
      this.reset();
      for (const r of rows) this.set({ status: r.status }, r._count._all);
    },
  });
  new Gauge({
    name: "trainpod_deployments_cost_micro_usd",
    help: "Recorded cost of closed deployments in micro-dollars by status, at scrape time",
    labelNames: ["status"] as const,
    registers: [m.registry],
    async collect() {
      const rows = await prisma.deployment.groupBy({ by: ["status"], _sum: { costMicros: true } });
      this.reset();
      for (const r of rows) this.set({ status: r.status }, Number(r._sum.costMicros ?? 0n));
    },
  });
}

/** A job outcome counter fed by BullMQ workers' completed/failed events. */
export function observeWorkerOutcomes(
  m: Metrics,
  workers: { name: string; on(event: "completed" | "failed", fn: () => void): unknown }[],
): void {
  for (const w of workers) {
    w.on("completed", () => m.jobOutcomes.inc({ queue: w.name, outcome: "completed" }));
    w.on("failed", () => m.jobOutcomes.inc({ queue: w.name, outcome: "failed" }));
  }
}
