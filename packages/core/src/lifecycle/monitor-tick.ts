import { Prisma, type Deployment, type FailureReason, type PrismaClient } from "../db";
import type { Pod } from "../runpod";
import { podCost } from "../deployments/cost";
import { failDeployment } from "./deploy-deployment";
import type { LifecycleDeps } from "./deps";

export interface MonitorSettings {
  heartbeatTimeoutMs: number;
  /** QUEUED longer than this without a pod: its deploy job is enqueued again (same job id: no duplicate) */
  requeueAfterMs: number;
}

export interface MonitorResult {
  pods: number;
  live: number;
  running: number;
  failed: Array<{ deploymentId: string; reason: FailureReason }>;
  requeued: number;
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
} as const satisfies Prisma.DeploymentSelect;
export type MonitoredDeployment = Pick<Deployment, keyof typeof MONITORED_SELECT>;

type Verdict = { fail: FailureReason; message: string } | { running: true } | null;

/** Decides what one live deployment's pod says. Pure: the tick applies it. */
export function judge(d: MonitoredDeployment, pod: Pod | undefined, now: Date, s: MonitorSettings): Verdict {
  const since = (t: Date | null) => (t ? now.getTime() - t.getTime() : 0);
  if (!pod || pod.desiredStatus === "TERMINATED") return { fail: "POD_VANISHED", message: `pod ${d.podId} is gone` };
  if (pod.desiredStatus === "EXITED") return { fail: "TRAINING_FAILED", message: "the pod's container exited without reporting an outcome" };
  if (d.runningAt && pod.lastStartedAt && Date.parse(pod.lastStartedAt) > d.runningAt.getTime() + 1000) {
    return { fail: "TRAINING_FAILED", message: "the container restarted without reporting an outcome" };
  }
  const cost = podCost(d, now) ?? 0n;
  if (cost > d.maxCostMicros) return { fail: "BUDGET_EXCEEDED", message: `cost so far exceeds the limit` };
  if (since(d.podCreatedAt) > d.maxRuntimeMinutes * 60_000) return { fail: "MAX_RUNTIME_EXCEEDED", message: `ran longer than ${d.maxRuntimeMinutes} min` };
  if (d.status === "PROVISIONING" && since(d.provisioningAt) > d.setupTimeoutMinutes * 60_000) {
    return { fail: "SETUP_TIMEOUT", message: `not running after ${d.setupTimeoutMinutes} min` };
  }
  if (d.status === "RUNNING" && since(d.lastHeartbeatAt ?? d.runningAt) > s.heartbeatTimeoutMs) {
    return { fail: "HEARTBEAT_TIMEOUT", message: `no heartbeat for ${Math.round(s.heartbeatTimeoutMs / 1000)} s` };
  }
  if (d.status === "PROVISIONING" && pod.desiredStatus === "RUNNING" && pod.lastStartedAt) return { running: true };
  return null;
}

/**
 * One monitor tick: ONE pod listing for all of our pods, ONE query for the live deployments,
 * then the transitions, and the cost so far of every live pod in ONE UPDATE.
 */
export async function monitorTick(deps: LifecycleDeps, s: MonitorSettings): Promise<MonitorResult> {
  const now = deps.clock.now();
  const [pods, live] = await Promise.all([
    deps.runpod.listPods({ namePrefix: deps.podNamePrefix }),
    deps.prisma.deployment.findMany({ where: { status: { in: ["PROVISIONING", "RUNNING"] }, podId: { not: null } }, select: MONITORED_SELECT }),
  ]);
  const byId = new Map(pods.map((p) => [p.id, p]));
  const result: MonitorResult = { pods: pods.length, live: live.length, running: 0, failed: [], requeued: 0 };
  const nowRunning: string[] = [];
  for (const d of live) {
    const verdict = judge(d, byId.get(d.podId ?? ""), now, s);
    if (verdict === null) continue;
    if ("running" in verdict) nowRunning.push(d.id);
    else if (await failDeployment(deps, d.id, verdict.fail, verdict.message)) {
      result.failed.push({ deploymentId: d.id, reason: verdict.fail });
    }
  }
  result.running = await markRunning(deps.prisma, nowRunning, now);
  await deps.prisma.$executeRaw`UPDATE "Deployment" SET "costMicros" = CEIL("costPerHrMicros" * CEIL(EXTRACT(EPOCH FROM (${now}::timestamptz - "podCreatedAt"))) / 3600.0)::bigint WHERE "podTerminatedAt" IS NULL AND "podCreatedAt" IS NOT NULL AND "costPerHrMicros" IS NOT NULL`;
  result.requeued = await requeueStale(deps, now, s.requeueAfterMs);
  return result;
}

/**
 * PROVISIONING → RUNNING for every deployment whose pod came up, in ONE statement: each row's
 * conditional UPDATE and its `running` event together (a CTE is atomic), however many there are.
 */
async function markRunning(prisma: PrismaClient, ids: string[], now: Date): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await prisma.$queryRaw<Array<{ n: number }>>(Prisma.sql`
    WITH moved AS (
      UPDATE "Deployment" SET "status" = 'RUNNING', "runningAt" = ${now}, "lastHeartbeatAt" = ${now}, "updatedAt" = ${now}
      WHERE "id" = ANY(${ids}::uuid[]) AND "status" = 'PROVISIONING'
      RETURNING "id"
    ), ev AS (
      INSERT INTO "DeploymentEvent" ("deploymentId", "type", "message", "createdAt")
      SELECT "id", 'running', 'pod is running', ${now} FROM moved
    )
    SELECT count(*)::int AS n FROM moved`);
  return rows[0]?.n ?? 0;
}

async function requeueStale(deps: LifecycleDeps, now: Date, afterMs: number): Promise<number> {
  const stale = await deps.prisma.deployment.findMany({
    where: { status: "QUEUED", podId: null, createdAt: { lt: new Date(now.getTime() - afterMs) } },
    select: { id: true },
    take: 500,
  });
  for (const { id } of stale) await deps.jobs.deploy(id, { revive: true });
  return stale.length;
}
