import { z } from "zod";
import type { PrismaClient } from "../db";
import type { JobEnqueuer } from "../jobs/enqueuer";
import type { Clock } from "../time/clock";
import { recordProgress } from "../deployment/deployment-store";
import { recordEvent, transition } from "../deployment/state-machine";
import { adoptReportedPod, type AdoptReportedPodDeps } from "./adopt-reported-pod";
import { failDeployment } from "./fail-deployment";

const line = z.string().max(4000);
const lines = z.array(line).max(200);

/** What a pod may report to POST /v1/runs/:id/events (the start script and the trainer). */
export const runEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("started"), system: z.record(z.string().max(100), z.string().max(2000)).optional() }),
  z.object({
    type: z.literal("dataset_downloaded"),
    bytes: z.number().int().nonnegative().optional(),
    seconds: z.number().nonnegative().optional(),
  }),
  z.object({
    type: z.literal("progress"),
    step: z.number().int().nonnegative(),
    totalSteps: z.number().int().positive().optional(),
    loss: z.number().finite().optional(),
  }),
  z.object({ type: z.literal("log"), lines }),
  z.object({ type: z.literal("completed"), lines: lines.optional() }),
  z.object({
    type: z.literal("failed"),
    exitCode: z.number().int().optional(),
    phase: z.enum(["setup", "dataset_download", "training", "upload"]).default("training"),
    message: z.string().max(2000).optional(),
    lines: lines.default([]),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;

/** Log batches kept per deployment (each up to 200 lines); past it, one `log_truncated` event. */
export const MAX_LOG_EVENTS = 500;

async function recordLogBatch(prisma: PrismaClient, deploymentId: string, lines: string[]): Promise<void> {
  const kept = await prisma.deploymentEvent.count({ where: { deploymentId, type: { in: ["log", "log_truncated"] } } });
  if (kept < MAX_LOG_EVENTS) return recordEvent(prisma, deploymentId, { type: "log", data: { lines } });
  if (kept === MAX_LOG_EVENTS)
    await recordEvent(prisma, deploymentId, {
      type: "log_truncated",
      message: `more than ${MAX_LOG_EVENTS} log batches: later lines dropped (the outcome report still carries the last 100)`,
    });
}

export interface RunEventDeps {
  prisma: PrismaClient;
  clock: Clock;
  jobs: JobEnqueuer;
  /** RunPod and our pod names: to adopt a pod that reports before its deployment recorded it */
  runpod?: AdoptReportedPodDeps["runpod"];
  podNamePrefix?: string;
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

/** Applies one event from a pod: progress and heartbeats, and the run's outcome, which terminates the pod at once. */
export async function recordRunEvent(deps: RunEventDeps, deploymentId: string, body: unknown): Promise<void> {
  const ev = runEventSchema.parse(body);
  const now = deps.clock.now();
  const heartbeat = () =>
    deps.prisma.deployment.updateMany({ where: { id: deploymentId }, data: { lastHeartbeatAt: now } });
  switch (ev.type) {
    case "started":
      await adoptIfUnrecorded(deps, deploymentId, ev.system?.podId);
      // the transition stamps the heartbeat itself; a restarted script only needs the heartbeat
      if (
        !(await transition(deps.prisma, {
          deploymentId,
          from: ["PROVISIONING"],
          to: "RUNNING",
          set: { runningAt: now, lastHeartbeatAt: now },
          event: { type: "running", message: "start script running", data: ev.system ?? {} },
        }))
      ) {
        await heartbeat();
        await recordEvent(deps.prisma, deploymentId, {
          type: "started",
          message: "start script (re)started",
          data: ev.system ?? {},
        });
      }
      return;
    case "dataset_downloaded":
      await heartbeat();
      return recordEvent(deps.prisma, deploymentId, {
        type: "dataset_downloaded",
        data: { bytes: ev.bytes ?? null, seconds: ev.seconds ?? null },
      });
    case "progress":
      await recordProgress(deps.prisma, deploymentId, ev, now);
      return recordEvent(deps.prisma, deploymentId, {
        type: "progress",
        data: { step: ev.step, totalSteps: ev.totalSteps ?? null, loss: ev.loss ?? null },
      });
    case "log":
      await heartbeat();
      return recordLogBatch(deps.prisma, deploymentId, ev.lines);
    case "completed":
      if (
        await transition(deps.prisma, {
          deploymentId,
          to: "SUCCEEDED",
          set: { finishedAt: now, exitCode: 0, lastHeartbeatAt: now },
          event: { type: "succeeded", message: "training completed" },
        })
      ) {
        await deps.jobs.terminate(deploymentId, "completed");
      }
      return;
    case "failed": {
      const reason = ev.phase === "dataset_download" ? "DATASET_DOWNLOAD_FAILED" : "TRAINING_FAILED";
      const tail = ev.lines.slice(-100);
      const message =
        ev.message ?? `${ev.phase} failed${ev.exitCode !== undefined ? ` with exit code ${ev.exitCode}` : ""}`;
      await failDeployment(deps, deploymentId, reason, [message, ...tail].join("\n"), {
        exitCode: ev.exitCode,
        data: { reason, phase: ev.phase, exitCode: ev.exitCode ?? null, lastLines: tail },
      });
      return;
    }
  }
}
