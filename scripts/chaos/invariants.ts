import { timelineComplete, type PrismaClient, type Queues } from "@trainpod/core";

export interface SimPodView {
  id: string;
  name: string;
  desiredStatus: string;
  accruedCostMicros: number;
}

export interface InvariantReport {
  deployments: number;
  byStatus: Record<string, number>;
  /** submitted (202) but not in the database */
  missing: string[];
  /** not in a terminal state, or terminal with the pod's termination not confirmed */
  notClosed: string[];
  /** sim pods not terminated */
  podsLeftRunning: string[];
  /** pod names (one per deployment) with more than one pod in the simulator */
  namesWithTwoPods: string[];
  /** pods no deployment recorded (orphans: injected, or duplicates); how many of them are terminated */
  orphans: { found: number; terminated: number };
  /** deployments whose recorded cost differs from the sim's bill by a cent or more */
  costMismatches: Array<{ id: string; recordedMicros: string; simMicros: number }>;
  maxCostDiffMicros: number;
  /** failed BullMQ jobs whose deployment is not closed: work nobody will do */
  lostJobs: string[];
  ok: boolean;
}

const CENT_MICROS = 10_000;

/** Checks what must hold once a chaos run has settled, from the database, the queues and the simulator's own view. */
export async function checkInvariants(opts: { prisma: PrismaClient; queues: Queues; simPods: SimPodView[]; submitted: string[]; podNamePrefix: string }): Promise<InvariantReport> {
  const rows = await opts.prisma.deployment.findMany({ select: { id: true, status: true, podId: true, podTerminatedAt: true, costMicros: true } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const closed = (id: string) => {
    const r = byId.get(id);
    // closed: an outcome, and its pod's termination recorded (or it never had a pod: cancelled while queued)
    return r !== undefined && timelineComplete(r);
  };
  const ours = opts.simPods.filter((p) => p.name.startsWith(opts.podNamePrefix));
  const names = new Map<string, number>();
  for (const p of ours) names.set(p.name, (names.get(p.name) ?? 0) + 1);
  const recordedPods = new Set(rows.map((r) => r.podId).filter((x): x is string => x !== null));
  const orphanPods = ours.filter((p) => !recordedPods.has(p.id));
  const simById = new Map(opts.simPods.map((p) => [p.id, p]));
  const costMismatches: InvariantReport["costMismatches"] = [];
  let maxCostDiffMicros = 0;
  for (const r of rows) {
    if (r.podId === null) continue;
    const sim = simById.get(r.podId);
    const simMicros = sim?.accruedCostMicros ?? -1;
    const diff = r.costMicros === null ? Infinity : Math.abs(Number(r.costMicros) - simMicros);
    maxCostDiffMicros = Math.max(maxCostDiffMicros, diff);
    if (!sim || diff >= CENT_MICROS) costMismatches.push({ id: r.id, recordedMicros: String(r.costMicros), simMicros });
  }
  const lostJobs: string[] = [];
  for (const name of ["deploy", "terminate"] as const) {
    for (const job of await opts.queues[name].getFailed()) {
      const id = (job.data as { deploymentId?: string }).deploymentId ?? "";
      if (!closed(id)) lostJobs.push(`${name}:${job.id}`);
    }
  }
  const report: InvariantReport = {
    deployments: rows.length,
    byStatus,
    missing: opts.submitted.filter((id) => !byId.has(id)),
    notClosed: rows.filter((r) => !closed(r.id)).map((r) => r.id),
    podsLeftRunning: opts.simPods.filter((p) => p.desiredStatus !== "TERMINATED").map((p) => p.id),
    namesWithTwoPods: [...names.entries()].filter(([, n]) => n > 1).map(([name]) => name),
    orphans: { found: orphanPods.length, terminated: orphanPods.filter((p) => p.desiredStatus === "TERMINATED").length },
    costMismatches,
    maxCostDiffMicros: Number.isFinite(maxCostDiffMicros) ? maxCostDiffMicros : -1,
    lostJobs,
    ok: false,
  };
  report.ok =
    report.missing.length === 0 &&
    report.notClosed.length === 0 &&
    report.podsLeftRunning.length === 0 &&
    report.namesWithTwoPods.length === 0 &&
    report.orphans.found === report.orphans.terminated &&
    report.costMismatches.length === 0 &&
    report.lostJobs.length === 0;
  return report;
}
