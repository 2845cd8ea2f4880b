import { Router, type Request, type Response } from "express";
import { z } from "zod";
import {
  AppError,
  getOwnDeployment,
  untilBackfillOver,
  type PrismaClient,
  type RunPodClient,
  type StreamSlots,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { openStream } from "./deployment-stream";

export interface PodLogRouteDeps {
  prisma: PrismaClient;
  /** the RunPod client (GET /v2/pods/{id}/logs) */
  runpod: RunPodClient;
  /** caps the open streams (shared with the timeline streams) */
  slots: StreamSlots;
}

const querySchema = z
  .object({
    follow: z.enum(["0", "1", "true", "false"]).optional(),
    source: z.enum(["container", "system"]).optional(),
    tail: z.coerce.number().int().min(0).max(5000).optional(),
  })
  .strict();

/**
 * GET /v1/deployments/:id/logs: the pod's own log lines from RunPod (container and system), for
 * its owner, as server-sent events `id: <RunPod's event id>` + `data: {ts, source, line}`. With
 * `follow=1` it stays open for new lines until the pod ends (or the client goes); without, it ends
 * once the backfill (`tail`, default 100) is over. Resumable: Last-Event-ID is handed to RunPod.
 */
export function podLogRoutes(deps: PodLogRouteDeps): Router {
  const router = Router();
  router.get("/v1/deployments/:id/logs", async (req, res) => {
    const userId = currentUserId(req);
    const parsed = querySchema.safeParse(req.query);
    if (!parsed.success)
      throw new AppError("VALIDATION_FAILED", "invalid log query", {
        details: { issues: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) },
      });
    const d = await getOwnDeployment(deps.prisma, userId, req.params.id);
    if (d.podId === null) throw new AppError("CONFLICT", "this deployment has no pod yet: no logs to read");
    if (d.podTerminatedAt !== null)
      throw new AppError(
        "CONFLICT",
        "this deployment's pod is terminated: RunPod keeps no logs of it (its last lines are in the timeline)",
      );
    const release = openStream(deps.slots, userId, req, res);
    const follow = parsed.data.follow === "1" || parsed.data.follow === "true";
    await streamLogs(deps, req, res, {
      podId: d.podId,
      follow,
      source: parsed.data.source,
      tail: parsed.data.tail,
    }).finally(release);
  });
  return router;
}

interface LogRequest {
  podId: string;
  follow: boolean;
  source?: "container" | "system";
  tail?: number;
}

/** Without follow, the answer is the backfill: lines written before this request (core's untilBackfillOver). */
const BACKFILL = { idleMs: 500, maxMs: 5_000 };

async function streamLogs(deps: PodLogRouteDeps, req: Request, res: Response, q: LogRequest): Promise<void> {
  const controller = new AbortController();
  res.on("close", () => controller.abort(new Error("client gone")));
  const lastEventId = req.get("last-event-id") ?? undefined;
  const open = (signal: AbortSignal) =>
    deps.runpod.podLogs(q.podId, { source: q.source, tail: q.tail, lastEventId, signal });
  const lines = q.follow
    ? open(controller.signal)
    : untilBackfillOver(open, { ...BACKFILL, signal: controller.signal });
  let started = false;
  try {
    for await (const line of lines) {
      if (!started) {
        res.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache, no-transform",
          connection: "keep-alive",
          "x-accel-buffering": "no",
        });
        started = true;
      }
      res.write(
        `${line.id !== undefined ? `id: ${line.id}\n` : ""}data: ${JSON.stringify({ ts: line.ts, source: line.source, line: line.line })}\n\n`,
      );
    }
  } catch (err) {
    if (!controller.signal.aborted) {
      if (!started) throw err;
      res.write(`event: error\ndata: ${JSON.stringify({ message: "RunPod's log stream failed" })}\n\n`);
    }
  }
  if (!started)
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
    });
  res.end("event: end\ndata: {}\n\n");
}
