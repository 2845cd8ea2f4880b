import { timelineComplete, type PrismaClient, type Queues } from "@trainpod/core";

export interface SimPodView {
  id: string;
  name: string;
  /** the v2 status (PROVISIONING, STARTING, RUNNING, EXITED, ERROR, TERMINATED); only TERMINATED stops billing */
  status: string;
  accruedCostMicros: number;
  billedSeconds: number;
  createdAt: string;
  terminatedAt: string | null;
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
  /**
   * deployments whose recorded cost differs from the simulator's own bill for their pods (every pod named
   * for the deployment, adopted ones included) by more than one second of the pod's price (+1 µ$ rounding)
   */
  costMismatches: Array<{
    id: string;
    status: string;
    podRecorded: boolean;
    recordedMicros: string;
    simMicros: number;
    diffSeconds: number;
    ours: string[];
    sim: Array<string | null>;
  }>;
  /** the largest per-deployment difference, in µ$ and in seconds of that pod's price, and whose (deployments that never recorded their pod: in costMismatches, not here; estimated ends inside their bracket: in estimatedEnds) */
  maxCostDiffMicros: number;
  maxCostDiffSeconds: number;
  maxCostDiffId: string | null;
  /** deployments whose pod the chaos run deleted: the largest difference, in seconds of price (left out of costMismatches) */
  vanishedMaxDiffSeconds: number;
  /** pods found gone by a later terminate call: their end is estimated, and RunPod's real end lies in the bracket recorded */
  estimatedEnds: { count: number; maxDiffSeconds: number };
  /** deployments meant to succeed (load.ts `healthy`) that did not end SUCCEEDED */
  healthy: number;
  healthyFailed: Array<{ id: string; status: string; failureReason: string | null; failureMessage: string | null }>;
  /** outcome (finishedAt) → the sim pod's terminatedAt, per deployment with a pod (vanished ones left out), ms */
  outcomeToDelete: {
    n: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    slowest: Array<{ id: string; ms: number }>;
  };
  /** deployments whose billing job recorded RunPod's bill, and those whose recorded bill differs from the sim's meter by a cent or more */
  billed: number;
  billMismatches: Array<{ id: string; runpodBilledMicros: string; simMicros: number }>;
  /** failed BullMQ jobs whose deployment is not closed: work nobody will do */
  lostJobs: string[];
  ok: boolean;
}

const CENT_MICROS = 10_000;
/** outcome → DELETE, p99 */
export const OUTCOME_TO_DELETE_P99_MS = 10_000;

/** nearest-rank percentile of sorted values */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Checks what must hold once a chaos run has settled, from the database, the queues and the simulator's own view. */
export async function checkInvariants(opts: {
  prisma: PrismaClient;
  queues: Queues;
  simPods: SimPodView[];
  submitted: string[];
  podNamePrefix: string;
  /** deployments meant to succeed */
  healthy: string[];
  /** deployments whose pod the chaos run deleted behind our back (left out of outcome → DELETE) */
  vanished: string[];
}): Promise<InvariantReport> {
  const rows = await opts.prisma.deployment.findMany({
    select: {
      id: true,
      status: true,
      failureReason: true,
      failureMessage: true,
      podId: true,
      costPerHrMicros: true,
      podCreatedAt: true,
      podRequestedAt: true,
      podTerminatedAt: true,
      finishedAt: true,
      costMicros: true,
      runpodBilledMicros: true,
    },
  });
  const byId = new Map(rows.map((r) => [r.id, r]));
  // terminations whose end was estimated (the pod was found gone by a later call): [earlier call, this call]
  const estimatedEnds = new Map<string, [number, number]>();
  for (const e of await opts.prisma.deploymentEvent.findMany({
    where: { type: "pod_terminated" },
    select: { deploymentId: true, data: true },
  })) {
    const between = (e.data as { endBetween?: unknown } | null)?.endBetween;
    if (Array.isArray(between) && between.length === 2)
      estimatedEnds.set(e.deploymentId, [Date.parse(String(between[0])), Date.parse(String(between[1]))]);
  }
  let estimated = 0;
  let estimatedMaxDiffSeconds = 0;
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const closed = (id: string) => {
    const r = byId.get(id);
    // closed: an outcome, and its pod's termination recorded (or no create ever tried: cancelled while queued)
    return r !== undefined && timelineComplete(r);
  };
  const ours = opts.simPods.filter((p) => p.name.startsWith(opts.podNamePrefix));
  const names = new Map<string, number>();
  for (const p of ours) names.set(p.name, (names.get(p.name) ?? 0) + 1);
  const recordedPods = new Set(rows.map((r) => r.podId).filter((x): x is string => x !== null));
  const orphanPods = ours.filter((p) => !recordedPods.has(p.id));
  const simById = new Map(opts.simPods.map((p) => [p.id, p]));
  const podsByName = new Map<string, SimPodView[]>();
  for (const p of ours) podsByName.set(p.name, [...(podsByName.get(p.name) ?? []), p]);
  const costMismatches: InvariantReport["costMismatches"] = [];
  const vanished = new Set(opts.vanished);
  // a pod deleted behind our back is billed to when we noticed (RunPod's 404 carries no time): up to a monitor
  // interval more than RunPod's bill, by design; those are reported apart and left out of the 1 s invariant
  let vanishedMaxDiffSeconds = 0;
  let maxCostDiffMicros = 0;
  let maxCostDiffSeconds = 0;
  let maxCostDiffId: string | null = null;
  for (const r of rows) {
    // every pod the sim holds under this deployment's name: a pod it never recorded still bills (by name, not podId)
    const named = podsByName.get(`${opts.podNamePrefix}${r.id}`) ?? [];
    if (r.podId === null && named.length === 0) continue;
    const simMicros = named.reduce((a, p) => a + p.accruedCostMicros, 0);
    // the pod's price a second: ours, or (a pod we never recorded) the sim's own bill over its seconds
    const simSeconds = named.reduce((a, p) => a + p.billedSeconds, 0);
    const perSecond =
      r.costPerHrMicros !== null ? Number(r.costPerHrMicros) / 3600 : simSeconds > 0 ? simMicros / simSeconds : 0;
    const diff = r.costMicros === null ? Infinity : Math.abs(Number(r.costMicros) - simMicros);
    const diffSeconds = perSecond > 0 ? diff / perSecond : Infinity;
    if (vanished.has(r.id)) {
      vanishedMaxDiffSeconds = Math.max(vanishedMaxDiffSeconds, diffSeconds);
      continue;
    }
    const sim = named.find((p) => p.id === r.podId);
    // an estimated end is right when RunPod's real end lies inside its bracket (RunPod's bill then says exactly):
    // reported apart (estimatedEnds), like the vanished ones, not in the 1 s figure below
    const bracket = estimatedEnds.get(r.id);
    const simEnd = sim?.terminatedAt ? Date.parse(sim.terminatedAt) : Number.NaN;
    if (sim && bracket && named.length === 1 && simEnd >= bracket[0] - 1000 && simEnd <= bracket[1] + 1000) {
      estimated += 1;
      estimatedMaxDiffSeconds = Math.max(estimatedMaxDiffSeconds, diffSeconds);
      continue;
    }
    if (Number.isFinite(diff) && (diff > maxCostDiffMicros || (diff === maxCostDiffMicros && maxCostDiffId === null))) {
      maxCostDiffMicros = diff;
      maxCostDiffSeconds = diffSeconds;
      maxCostDiffId = r.id;
    }
    // a pod the deployment never recorded (created for it, then orphaned) is charged to it by reconcile: its cost counts all the same
    if (!(diff <= perSecond + 1)) {
      costMismatches.push({
        id: r.id,
        status: r.status,
        podRecorded: r.podId !== null,
        recordedMicros: String(r.costMicros),
        simMicros,
        diffSeconds: Math.round(diffSeconds * 100) / 100,
        ours: [String(r.podCreatedAt?.toISOString()), String(r.podTerminatedAt?.toISOString())],
        sim: named.flatMap((p) => [p.id, p.createdAt, p.terminatedAt]),
      });
    }
  }
  const healthy = new Set(opts.healthy);
  const healthyFailed = rows
    .filter((r) => healthy.has(r.id) && r.status !== "SUCCEEDED")
    .map((r) => ({
      id: r.id,
      status: r.status,
      failureReason: r.failureReason,
      failureMessage: r.failureMessage?.slice(0, 200) ?? null,
    }));
  const delays: Array<{ id: string; ms: number }> = [];
  for (const r of rows) {
    if (r.finishedAt === null || vanished.has(r.id)) continue;
    // the last of the deployment's pods to end: a pod recorded late (created as it closed) counts too
    const named = podsByName.get(`${opts.podNamePrefix}${r.id}`) ?? [];
    if (named.length === 0) continue;
    const ends = named.map((p) => (p.terminatedAt === null ? Date.now() : Date.parse(p.terminatedAt)));
    delays.push({ id: r.id, ms: Math.max(0, Math.max(...ends) - r.finishedAt.getTime()) });
  }
  const sortedDelays = delays.map((d) => d.ms).sort((a, b) => a - b);
  const outcomeToDelete = {
    n: delays.length,
    p50: percentile(sortedDelays, 50),
    p90: percentile(sortedDelays, 90),
    p99: percentile(sortedDelays, 99),
    max: sortedDelays[sortedDelays.length - 1] ?? 0,
    slowest: [...delays].sort((a, b) => b.ms - a.ms).slice(0, 5),
  };
  const billedRows = rows.filter((r) => r.podId !== null && r.runpodBilledMicros !== null);
  const billMismatches = billedRows
    .map((r) => ({
      id: r.id,
      runpodBilledMicros: String(r.runpodBilledMicros),
      simMicros: simById.get(r.podId ?? "")?.accruedCostMicros ?? -1,
    }))
    .filter((b) => b.simMicros < 0 || Math.abs(Number(b.runpodBilledMicros) - b.simMicros) >= CENT_MICROS);
  const lostJobs: string[] = [];
  for (const name of ["deploy", "terminate", "billing"] as const) {
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
    podsLeftRunning: opts.simPods.filter((p) => p.status !== "TERMINATED").map((p) => p.id),
    namesWithTwoPods: [...names.entries()].filter(([, n]) => n > 1).map(([name]) => name),
    orphans: { found: orphanPods.length, terminated: orphanPods.filter((p) => p.status === "TERMINATED").length },
    costMismatches,
    maxCostDiffMicros: Number.isFinite(maxCostDiffMicros) ? maxCostDiffMicros : -1,
    maxCostDiffSeconds: Number.isFinite(maxCostDiffSeconds) ? Math.round(maxCostDiffSeconds * 100) / 100 : -1,
    maxCostDiffId,
    vanishedMaxDiffSeconds: Number.isFinite(vanishedMaxDiffSeconds)
      ? Math.round(vanishedMaxDiffSeconds * 100) / 100
      : -1,
    estimatedEnds: { count: estimated, maxDiffSeconds: Math.round(estimatedMaxDiffSeconds * 100) / 100 },
    healthy: rows.filter((r) => healthy.has(r.id)).length,
    healthyFailed,
    outcomeToDelete,
    billed: billedRows.length,
    billMismatches,
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
    report.healthyFailed.length === 0 &&
    report.outcomeToDelete.p99 <= OUTCOME_TO_DELETE_P99_MS &&
    report.billMismatches.length === 0 &&
    report.lostJobs.length === 0;
  return report;
}
