import { Router, type Request, type Response } from "express";
import {
  AppError,
  deploymentView,
  eventView,
  getOwnDeployment,
  parseLastEventId,
  type Clock,
  type Deployment,
  type PrismaClient,
  type StreamSlots,
  type TimelineHub,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { keepStreamOpen } from "../http/server-limits";

export interface StreamRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** caps the open streams (per user and per process) */
  slots: StreamSlots;
  /** reads the timelines of every open stream of this process, in one query per poll */
  hub: TimelineHub;
  /** a heartbeat comment this often when nothing else was sent (default 15 s) */
  heartbeatMs?: number;
}

/**
 * A `live` frame: the deployment's progress and current phase, as each read of the hub finds them. It carries
 * every report the rows leave out (a phase's progress writes no row, training steps past the first 100 are
 * downsampled), at the hub's read interval. No SSE id: it is not part of the resumable timeline.
 */
function liveFrame(d: Deployment, now: Date): string | null {
  const v = deploymentView(d, now);
  if (v.phase === null && v.progress.step === null) return null;
  return JSON.stringify({ status: v.status, progress: v.progress, phase: v.phase });
}

function frame(res: Response, fields: { id?: string; event?: string; data: unknown }): void {
  const head = `${fields.id !== undefined ? `id: ${fields.id}\n` : ""}${fields.event !== undefined ? `event: ${fields.event}\n` : ""}`;
  res.write(`${head}data: ${JSON.stringify(fields.data)}\n\n`);
}

/**
 * Takes one of the user's stream slots for this answer (released by the returned function). Past the cap the
 * refusal (429 RATE_LIMITED) carries Retry-After; once taken, the socket leaves the server's idle timeout: a
 * stream may stay quiet (no event, no pod log line) for longer than that without its client being gone.
 */
export function openStream(slots: StreamSlots, userId: string, req: Request, res: Response): () => void {
  try {
    const release = slots.acquire(userId);
    keepStreamOpen(req);
    return release;
  } catch (err) {
    if (err instanceof AppError && err.code === "RATE_LIMITED") res.set("Retry-After", String(slots.retryAfterSeconds));
    throw err;
  }
}

/**
 * GET /v1/deployments/:id/events/stream: server-sent events of the timeline. The SSE id is the
 * highest event row id delivered so far, so a client resumes with Last-Event-ID (or ?lastEventId=);
 * events that commit out of id order are still delivered (TimelineCursor, inside the TimelineHub).
 * Replays what it missed, then what comes; ends with an `end` event (the deployment) once the outcome
 * is recorded and the pod is gone. Open streams are capped per user and per process (StreamSlots: 429).
 */
export function deploymentStreamRoutes(deps: StreamRouteDeps): Router {
  const router = Router();

  router.get("/v1/deployments/:id/events/stream", async (req, res) => {
    const userId = currentUserId(req);
    const d = await getOwnDeployment(deps.prisma, userId, req.params.id);
    const release = openStream(deps.slots, userId, req, res);
    streamTimeline(deps, req, res, d.id, release);
  });

  return router;
}

function streamTimeline(
  deps: StreamRouteDeps,
  req: Request,
  res: Response,
  deploymentId: string,
  release: () => void,
): void {
  let highest = parseLastEventId(req.get("last-event-id") ?? req.query.lastEventId) ?? 0n;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write("retry: 2000\n\n");
  let sentAt = deps.clock.now().getTime();
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const heartbeat = setInterval(
    () => {
      if (deps.clock.now().getTime() - sentAt >= heartbeatMs) res.write(": heartbeat\n\n");
    },
    Math.min(heartbeatMs, 5_000),
  );
  const close = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
    release();
    res.end();
  };
  let lastLive: string | null = null;
  const unsubscribe = deps.hub.subscribe(deploymentId, highest, {
    events(events) {
      // the SSE id is the highest id delivered so far, so a late-committed event with a smaller id
      // never moves a client's Last-Event-ID backwards
      for (const e of events) {
        if (e.id > highest) highest = e.id;
        frame(res, { id: highest.toString(), data: eventView(e) });
      }
      sentAt = deps.clock.now().getTime();
    },
    end(deployment) {
      frame(res, { event: "end", data: deploymentView(deployment, deps.clock.now()) });
      close();
    },
    error: close,
    state(deployment) {
      const live = liveFrame(deployment, deps.clock.now());
      if (live === null || live === lastLive) return;
      lastLive = live;
      res.write(`event: live\ndata: ${live}\n\n`);
      sentAt = deps.clock.now().getTime();
    },
  });
  req.on("close", close);
}
