import type { Deployment, FailureReason, Prisma } from "../db";
import type { Pod } from "../runpod";
import { podCost, recordRunningCosts } from "../deployment/cost";
import { liveDeploymentsOverBudget } from "../spend/enforce-budgets";
import { waitingToWake } from "../spend/wake-waiting";
import { failDeployment } from "./fail-deployment";
import { terminateDeployment } from "./terminate-pod";
import { TERMINAL_STATUSES } from "../deployment/state-machine";
import type { LifecycleDeps } from "./lifecycle-deps";
import { tooYoungToVanish } from "./pod-vanish-grace";

export interface MonitorSettings {
  /** no report at all (heartbeats included) this long: the pod is dead */
  heartbeatTimeoutMs: number;
  /** alive but no training step this long while in the train phase: the trainer is stuck (0: off) */
  stallTimeoutMs: number;
  /** QUEUED longer than this without a pod: its deploy job is enqueued again (same job id: no duplicate) */
  requeueAfterMs: number;
  /**
   * a closed deployment whose pod is still not terminated this long after its outcome is terminated by
   * the tick itself: its terminate job may be held by a killed worker's lock (BullMQ takes it over only
   * after the lock and the stalled check, about a minute with the defaults)
   */
  terminateSweepAfterMs: number;
  /** POD_VANISH_GRACE_SECONDS: a pod younger than this is not failed for being missing (pod-vanish-grace.ts; default 3 min) */
  vanishGraceMs?: number;
}

export interface MonitorResult {
  pods: number;
  live: number;
  /** live deployments whose pod has reported it runs */
  running: number;
  failed: Array<{ deploymentId: string; reason: FailureReason }>;
  requeued: number;
  /** pods the listing left out that GET /v2/pods/{id} found alive (RunPod's list lags) */
  listingMisses: number;
  /** closed deployments whose pod the tick terminated itself (their terminate job was late) */
  swept: string[];
}

/** The columns `judge` reads: the tick loads only these for every live deployment. */
export const MONITORED_SELECT = {
  id: true,
  status: true,
  podId: true,
  costPerHrMicros: true,
  maxCostMicros: true,
  maxRuntimeMinutes: true,
  setupTimeoutMinutes: true,
  provisioningAt: true,
  podCreatedAt: true,
  runningAt: true,
  lastHeartbeatAt: true,
  phase: true,
  phaseState: true,
  phaseStartedAt: true,
  lastProgressAt: true,
} as const satisfies Prisma.DeploymentSelect;
export type MonitoredDeployment = Pick<Deployment, keyof typeof MONITORED_SELECT>;

type Verdict = { fail: FailureReason; message: string } | null;

/**
 * Decides what one live deployment's pod says. Pure: the tick applies it. Readiness is not read
 * here: v2 may report RUNNING while the image is still being pulled, so PROVISIONING → RUNNING is
 * the pod's own first report (`started`), and a pod that never reports meets the setup timeout.
 */
export function judge(d: MonitoredDeployment, pod: Pod | undefined, now: Date, s: MonitorSettings): Verdict {
  const since = (t: Date | null) => (t ? now.getTime() - t.getTime() : 0);
  if (!pod && tooYoungToVanish(d, now, s.vanishGraceMs)) return null;
  if (!pod || pod.status === "TERMINATED") return { fail: "POD_VANISHED", message: `pod ${d.podId} is gone` };
  if (pod.status === "ERROR")
    return { fail: "POD_ERROR", message: `RunPod reports pod ${pod.id} in ERROR (see RunPod's system log lines)` };
  if (pod.status === "EXITED")
    return { fail: "TRAINING_FAILED", message: "the pod's container exited without reporting an outcome" };
  const cost = podCost(d, now) ?? 0n;
  if (cost > d.maxCostMicros) return { fail: "BUDGET_EXCEEDED", message: `cost so far exceeds the limit` };
  if (since(d.podCreatedAt) > d.maxRuntimeMinutes * 60_000)
    return { fail: "MAX_RUNTIME_EXCEEDED", message: `ran longer than ${d.maxRuntimeMinutes} min` };
  if (d.status === "PROVISIONING" && since(d.provisioningAt) > d.setupTimeoutMinutes * 60_000) {
    return { fail: "SETUP_TIMEOUT", message: `not running after ${d.setupTimeoutMinutes} min` };
  }
  if (d.status === "RUNNING" && since(d.lastHeartbeatAt ?? d.runningAt) > s.heartbeatTimeoutMs) {
    return { fail: "HEARTBEAT_TIMEOUT", message: `no heartbeat for ${Math.round(s.heartbeatTimeoutMs / 1000)} s` };
  }
  if (stalled(d, now, s.stallTimeoutMs)) {
    const seconds = Math.round(s.stallTimeoutMs / 1000);
    return {
      fail: "TRAINING_STALLED",
      message: `no training step for ${seconds} s (the pod is alive: its heartbeats arrive)`,
    };
  }
  // `startedAt` moving past the run's own start means a restart (if RunPod moves it then: the spec does not
  // say). Not `now - runtime.uptime`: that mixes RunPod's clock with ours. A restarted start script also
  // fails on its own: its dataset token is spent, so its download fails and it reports `failed`.
  if (d.runningAt && pod.startedAt && Date.parse(pod.startedAt) > d.runningAt.getTime() + 2000) {
    return { fail: "TRAINING_FAILED", message: "the container restarted without reporting an outcome" };
  }
  return null;
}

/**
 * Liveness is not progress: the heartbeat rule says the pod is alive; this one catches a trainer that is alive but
 * stuck. Only in the train phase (downloads, tokenizing, saving and uploading a big model take long without a step),
 * counted from the last step or from the phase's start, whichever is later.
 */
function stalled(d: MonitoredDeployment, now: Date, stallTimeoutMs: number): boolean {
  if (stallTimeoutMs <= 0 || d.status !== "RUNNING" || d.phase !== "train" || d.phaseState === "ended") return false;
  const last = Math.max(d.lastProgressAt?.getTime() ?? 0, d.phaseStartedAt?.getTime() ?? 0);
  return last > 0 && now.getTime() - last > stallTimeoutMs;
}

/**
 * One monitor tick: ONE pod listing for all of our pods, ONE query for the live deployments,
 * then the transitions, and the cost so far of every live pod in ONE UPDATE.
 */
export async function monitorTick(deps: LifecycleDeps, s: MonitorSettings): Promise<MonitorResult> {
  const now = deps.clock.now();
  // the overdue terminations need no listing: they start at once, beside it, so a slow or failing listing
  // (a timeout and its retries: 10 s and more) neither delays nor skips them (the chaos run measured
  // outcome → DELETE p99 11.7 s, every slowest pod swept at the end of a tick that had waited on the listing)
  const sweeping = sweepUnterminated(deps, now, s.terminateSweepAfterMs);
  let pods: Pod[];
  let live: MonitoredDeployment[];
  try {
    [pods, live] = await Promise.all([
      deps.runpod.listPods({ namePrefix: deps.podNamePrefix }),
      deps.prisma.deployment.findMany({
        where: { status: { in: ["PROVISIONING", "RUNNING"] }, podId: { not: null } },
        select: MONITORED_SELECT,
      }),
    ]);
  } catch (err) {
    await sweeping.catch(() => undefined);
    throw err;
  }
  const byId = new Map(pods.map((p) => [p.id, p]));
  const result: MonitorResult = {
    pods: pods.length,
    live: live.length,
    running: 0,
    failed: [],
    requeued: 0,
    listingMisses: 0,
    swept: [],
  };
  const unknown = await confirmMissing(deps, live, byId, result);
  for (const d of live) {
    if (d.status === "RUNNING") result.running += 1;
    if (unknown.has(d.id)) continue;
    const verdict = judge(d, byId.get(d.podId ?? ""), now, s);
    if (verdict === null) continue;
    if (await failDeployment(deps, d.id, verdict.fail, verdict.message)) {
      result.failed.push({ deploymentId: d.id, reason: verdict.fail });
    }
  }
  await recordRunningCosts(deps.prisma, now);
  result.requeued = await requeueStale(deps, now, s.requeueAfterMs);
  if (deps.spend) {
    // every waiting deployment that now fits (a release's own wake-up lost), and each user's oldest, ask again
    for (const id of await waitingToWake(deps.prisma, deps.spend, { oldest: true }))
      await deps.jobs.deploy(id, { revive: true });
    for (const over of await liveDeploymentsOverBudget(deps.prisma, deps.spend, now)) {
      for (const id of over.deploymentIds) {
        if (await failDeployment(deps, id, "BUDGET_EXCEEDED", over.message))
          result.failed.push({ deploymentId: id, reason: "BUDGET_EXCEEDED" });
      }
    }
  }
  result.swept = await sweeping;
  return result;
}

/**
 * A listing can lag or miss a pod: one miss says nothing. Each live pod the listing left out is asked
 * for by id (GET /v2/pods/{id}); found, it is judged as usual; 404 leaves it missing (POD_VANISHED);
 * a read that fails decides nothing this tick (the deployments answered in the returned set).
 */
async function confirmMissing(
  deps: LifecycleDeps,
  live: MonitoredDeployment[],
  byId: Map<string, Pod>,
  result: MonitorResult,
): Promise<Set<string>> {
  const unknown = new Set<string>();
  const missing = live.filter((d) => d.podId !== null && !byId.has(d.podId));
  await Promise.all(
    missing.map(async (d) => {
      try {
        const pod = await deps.runpod.getPod(d.podId ?? "");
        if (pod === null) return;
        byId.set(pod.id, pod);
        result.listingMisses += 1;
      } catch (err) {
        unknown.add(d.id);
        deps.logger.warn("pod missing from the listing and its own read failed: judged next tick", {
          deploymentId: d.id,
          podId: d.podId,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }),
  );
  return unknown;
}

/** At most this many late terminations per tick (each is a DELETE on the account's budget, urgent). */
const SWEEP_BATCH = 25;

/**
 * Closed deployments whose pod is still not terminated `afterMs` after the outcome: terminated here, by
 * the same idempotent use case as the terminate job (DELETE, then one conditional record: whichever of the
 * two comes second finds the pod gone or the record made). A pod whose outcome is known must not bill for
 * the minute BullMQ needs to notice that a killed worker held its terminate job.
 */
async function sweepUnterminated(deps: LifecycleDeps, now: Date, afterMs: number): Promise<string[]> {
  const before = new Date(now.getTime() - afterMs);
  const late = await deps.prisma.deployment.findMany({
    where: {
      status: { in: [...TERMINAL_STATUSES] },
      podId: { not: null },
      podTerminatedAt: null,
      OR: [{ finishedAt: { lt: before } }, { finishedAt: null, updatedAt: { lt: before } }],
    },
    select: { id: true },
    orderBy: { finishedAt: "asc" },
    take: SWEEP_BATCH,
  });
  const swept: string[] = [];
  await Promise.all(
    late.map(async ({ id }) => {
      try {
        if ((await terminateDeployment(deps, id, "monitor: termination overdue")) === "terminated") swept.push(id);
      } catch (err) {
        deps.logger.warn("overdue termination failed: the terminate job and the next tick try again", {
          deploymentId: id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }),
  );
  return swept;
}

async function requeueStale(deps: LifecycleDeps, now: Date, afterMs: number): Promise<number> {
  const stale = await deps.prisma.deployment.findMany({
    // those waiting for a slot are woken when they fit (below), not all at once
    where: {
      status: "QUEUED",
      podId: null,
      createdAt: { lt: new Date(now.getTime() - afterMs) },
      ...(deps.spend ? { slotWaitSince: null } : {}),
    },
    select: { id: true },
    take: 500,
  });
  for (const { id } of stale) await deps.jobs.deploy(id, { revive: true });
  return stale.length;
}
