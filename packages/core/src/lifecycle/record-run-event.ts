import type { Prisma, PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import type { Clock } from "../time/clock";
import {
  keepLastProgressRow,
  recordPhase,
  recordProgressStep,
  recordReport,
  recordResult,
} from "../deployment/run-event-store";
import { transition, updateWithEvent } from "../deployment/state-machine";
import { recordTrainThroughput } from "../estimate/measured";
import { adoptReportedPod, type AdoptReportedPodDeps } from "./adopt-reported-pod";
import { failDeployment } from "./fail-deployment";
import { keepProgressRow } from "./progress-sampling";
import { phaseExtras, runEventSchema, type PhaseEvent, type RunEvent } from "./run-event-schema";

export { runEventSchema, type RunEvent };

/** Log batches kept per deployment (each up to 200 lines); past it, one `log_truncated` event. */
export const MAX_LOG_EVENTS = 500;

/** What became of a report: false when it was a repeat (its seq already applied) or an outcome already recorded. */
export interface RunEventResult {
  applied: boolean;
}

export interface RunEventDeps {
  prisma: PrismaClient;
  clock: Clock;
  jobs: JobEnqueuer;
  /** RunPod and our pod names: to adopt a pod that reports before its deployment recorded it */
  runpod?: AdoptReportedPodDeps["runpod"];
  podNamePrefix?: string;
}

/** The heartbeat and the highest seq, then the batch (or the one `log_truncated`), in one transaction. */
function recordLogBatch(deps: RunEventDeps, deploymentId: string, ev: { seq?: number; lines: string[] }, now: Date) {
  return deps.prisma.$transaction(async (tx) => {
    if (!(await recordReport(tx, deploymentId, { now, seq: ev.seq }))) return false;
    const kept = await tx.deploymentEvent.count({ where: { deploymentId, type: { in: ["log", "log_truncated"] } } });
    if (kept < MAX_LOG_EVENTS)
      await tx.deploymentEvent.create({ data: { deploymentId, type: "log", data: { lines: ev.lines } } });
    else if (kept === MAX_LOG_EVENTS)
      await tx.deploymentEvent.create({
        data: {
          deploymentId,
          type: "log_truncated",
          message: `more than ${MAX_LOG_EVENTS} log batches: later lines dropped (the outcome report still carries the last 100)`,
        },
      });
    return true;
  });
}

/** The `started` report of a pod its deployment has not recorded yet adopts it (adopt-reported-pod.ts). */
async function adoptIfUnrecorded(deps: RunEventDeps, deploymentId: string, podId: string | undefined): Promise<void> {
  if (podId === undefined || podId === "" || deps.runpod === undefined || deps.podNamePrefix === undefined) return;
  await adoptReportedPod(
    { prisma: deps.prisma, clock: deps.clock, runpod: deps.runpod, podNamePrefix: deps.podNamePrefix },
    deploymentId,
    podId,
  );
}

const seqIsNew = (seq: number | undefined): Pick<Prisma.DeploymentWhereInput, "OR"> =>
  seq === undefined ? {} : { OR: [{ lastEventSeq: null }, { lastEventSeq: { lt: seq } }] };

/** PROVISIONING → RUNNING (the transition stamps the heartbeat); a restarted script: the heartbeat and a row. */
async function onStarted(deps: RunEventDeps, deploymentId: string, ev: Extract<RunEvent, { type: "started" }>) {
  await adoptIfUnrecorded(deps, deploymentId, ev.system?.podId);
  const now = deps.clock.now();
  const system = ev.system ?? {};
  const running = await updateWithEvent(
    deps.prisma,
    { id: deploymentId, status: { in: ["PROVISIONING"] }, ...seqIsNew(ev.seq) },
    {
      status: "RUNNING",
      runningAt: now,
      lastHeartbeatAt: now,
      ...(ev.seq !== undefined ? { lastEventSeq: ev.seq } : {}),
    },
    { type: "running", message: "start script running", data: system },
  );
  if (running) return true;
  const row = { type: "started", message: "start script (re)started", data: system };
  return recordReport(deps.prisma, deploymentId, { now, seq: ev.seq, row });
}

/** A phase's start, progress or end: the deployment's phase columns, and a row for its start and its end. */
async function onPhase(deps: RunEventDeps, deploymentId: string, ev: PhaseEvent) {
  const facts = { ...phaseExtras(ev), ...(ev.ok !== undefined ? { ok: ev.ok } : {}) };
  const outcome = ev.ok === false ? "failed" : "ended";
  const row =
    ev.state === "progress"
      ? null
      : { type: `phase_${ev.state}`, message: `${ev.phase} ${ev.state === "started" ? "started" : outcome}`, facts };
  const applied = await recordPhase(deps.prisma, deploymentId, { ...ev, now: deps.clock.now(), row });
  // the train phase's measured tokens and tokens/s onto the deployment (the estimate's median of runs, issue 35)
  if (applied && ev.state === "ended") await recordTrainThroughput(deps.prisma, deploymentId, ev.phase, facts);
  return applied;
}

/** SUCCEEDED, or FAILED with a reason from the pod's phase and cause; either asks for the pod's termination. */
async function onOutcome(
  deps: RunEventDeps,
  deploymentId: string,
  ev: Extract<RunEvent, { type: "completed" | "failed" }>,
) {
  const now = deps.clock.now();
  // the timeline ends on the step the run reached, even when that step's row was downsampled away
  await keepLastProgressRow(deps.prisma, deploymentId);
  if (ev.type === "completed") {
    const won = await transition(deps.prisma, {
      deploymentId,
      to: "SUCCEEDED",
      set: { finishedAt: now, exitCode: 0, lastHeartbeatAt: now },
      event: { type: "succeeded", message: "training completed" },
    });
    if (won) await deps.jobs.terminate(deploymentId, "completed");
    return won;
  }
  const download = ev.phase === "dataset_download" || ev.cause === "dataset_download";
  const reason = download ? "DATASET_DOWNLOAD_FAILED" : "TRAINING_FAILED";
  const tail = ev.lines.slice(-100);
  const said = ev.message ?? `${ev.phase} failed${ev.exitCode !== undefined ? ` with exit code ${ev.exitCode}` : ""}`;
  const message = `${said}${ev.cause !== undefined ? ` (cause: ${ev.cause})` : ""}`;
  return failDeployment(deps, deploymentId, reason, [message, ...tail].join("\n"), {
    exitCode: ev.exitCode,
    data: { reason, phase: ev.phase, cause: ev.cause ?? null, exitCode: ev.exitCode ?? null, lastLines: tail },
  });
}

/**
 * Applies one report of a pod. Every report proves the pod alive (the heartbeat); `seq` drops repeats: a report
 * at or below the highest seq applied is acknowledged and changes nothing, except heartbeats (sent from their own
 * loop, beside the others: never dropped, never moving the seq) and outcomes (applied once by the state machine
 * whatever their seq, so a restarted pod's outcome still lands). The outcome terminates the pod at once.
 */
export async function recordRunEvent(deps: RunEventDeps, deploymentId: string, body: unknown): Promise<RunEventResult> {
  const ev = runEventSchema.parse(body);
  const now = deps.clock.now();
  const applied = async (p: Promise<boolean>) => ({ applied: await p });
  switch (ev.type) {
    case "heartbeat":
      return applied(recordReport(deps.prisma, deploymentId, { now }));
    case "started":
      return applied(onStarted(deps, deploymentId, ev));
    case "dataset_downloaded": {
      const row = { type: "dataset_downloaded", data: { bytes: ev.bytes ?? null, seconds: ev.seconds ?? null } };
      return applied(recordReport(deps.prisma, deploymentId, { now, seq: ev.seq, row }));
    }
    case "phase":
      return applied(onPhase(deps, deploymentId, ev));
    case "progress": {
      // an evaluated step always keeps its row: the eval losses are the run's curve (a few dozen a run)
      const keepRow = ev.evalLoss !== undefined || keepProgressRow(ev.step, ev.totalSteps);
      const { learning_rate: learningRate, grad_norm: gradNorm, ...step } = ev;
      return applied(recordProgressStep(deps.prisma, deploymentId, { ...step, learningRate, gradNorm, now, keepRow }));
    }
    case "log":
      return applied(recordLogBatch(deps, deploymentId, ev, now));
    case "hub_push":
    case "wandb":
      return applied(recordResult(deps.prisma, deploymentId, { ...ev, now }));
    case "completed":
    case "failed":
      return applied(onOutcome(deps, deploymentId, ev));
  }
}
