import { setTimeout as sleep } from "node:timers/promises";
import { Router, type Request, type Response } from "express";
import { deploymentView, eventView, getOwnDeployment, parseLastEventId, timelineComplete, TimelineCursor, type Clock, type StreamSlots, type PrismaClient } from "@trainpod/core";
import { currentUserId } from "../http/auth";

export interface StreamRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** caps the open streams (per user and per process) */
  slots: StreamSlots;
  /** how often a stream looks for new events (default 400 ms) */
  pollMs?: number;
  /** a heartbeat comment after this many quiet polls (default 37, ~15 s) */
  heartbeatPolls?: number;
}

const BATCH = 200;

function frame(res: Response, fields: { id?: string; event?: string; data: unknown }): void {
  const head = `${fields.id !== undefined ? `id: ${fields.id}\n` : ""}${fields.event !== undefined ? `event: ${fields.event}\n` : ""}`;
  res.write(`${head}data: ${JSON.stringify(fields.data)}\n\n`);
}

/**
 * GET /v1/deployments/:id/events/stream: server-sent events of the timeline. The SSE id is the
 * highest event row id delivered so far, so a client resumes with Last-Event-ID (or ?lastEventId=);
 * events that commit out of id order are still delivered (TimelineCursor). Replays what it
 * missed, then polls the database; ends with an `end` event (the deployment) once the outcome is
 * recorded and the pod is gone. Open streams are capped per user and per process (StreamSlots: 429).
 */
export function deploymentStreamRoutes(deps: StreamRouteDeps): Router {
  const router = Router();

  router.get("/v1/deployments/:id/events/stream", async (req, res) => {
    const userId = currentUserId(req);
    const d = await getOwnDeployment(deps.prisma, userId, req.params.id);
    const release = deps.slots.acquire(userId);
    try {
      await streamTimeline(deps, req, res, d.id);
    } finally {
      release();
    }
  });

  return router;
}

async function streamTimeline(deps: StreamRouteDeps, req: Request, res: Response, deploymentId: string): Promise<void> {
  const pollMs = deps.pollMs ?? 400;
  const heartbeatPolls = deps.heartbeatPolls ?? 37;
  const after = parseLastEventId(req.get("last-event-id") ?? req.query.lastEventId) ?? 0n;
  const cursor = new TimelineCursor(deps.prisma, deploymentId, after, () => deps.clock.now());
  let highest = after;
  let open = true;
  req.on("close", () => (open = false));
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", connection: "keep-alive", "x-accel-buffering": "no" });
  res.write("retry: 2000\n\n");
  const drain = async (): Promise<number> => {
    const events = await cursor.next(BATCH);
    // the SSE id is the highest id delivered so far, so a late-committed event with a smaller id
    // never moves a client's Last-Event-ID backwards
    for (const e of events) {
      if (e.id > highest) highest = e.id;
      frame(res, { id: highest.toString(), data: eventView(e) });
    }
    return events.length;
  };
  let quiet = 0;
  while (open) {
    const sent = await drain();
    if (sent === BATCH) continue;
    if (sent > 0) quiet = 0;
    const now = await deps.prisma.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (timelineComplete(now)) {
      while ((await drain()) === BATCH);
      frame(res, { event: "end", data: deploymentView(now, deps.clock.now()) });
      break;
    }
    if (++quiet >= heartbeatPolls) {
      res.write(": heartbeat\n\n");
      quiet = 0;
    }
    await sleep(pollMs);
  }
  res.end();
}
