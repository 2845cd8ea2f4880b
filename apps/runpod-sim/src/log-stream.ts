/**
 * GET /v2/pods/{id}/logs: Server-Sent Events. Each event is `id: <ts>/<12-digit seq>` and
 * `data: {"ts","source","line"}`. Backfill first: after `Last-Event-ID` (an id we emitted, or a
 * bare timestamp: lines after it), else from `since` (lines at or after it), else the last `tail`
 * lines (default 100, max 5000, 0 = none); then live lines. The stream stays open while the pod
 * exists (EXITED and ERROR pods included: a start writes new lines) and ends when the pod is
 * terminated or the client goes away. A `: keep-alive` comment every 15 s.
 */
import { sendError } from "./http-util";
import type { LogEntry, LogSource } from "./pod-log";
import type { RouteCall } from "./routes";

const KEEP_ALIVE_MS = 15_000;

const eventId = (e: LogEntry): string => `${new Date(e.ts).toISOString()}/${String(e.seq).padStart(12, "0")}`;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

type Cursor =
  | { kind: "afterSeq"; seq: number }
  | { kind: "afterTs"; ts: number }
  | { kind: "since"; ts: number }
  | { kind: "tail"; n: number };

function parseCursor({ req, query }: RouteCall, errors: string[]): Cursor {
  const header = req.headers["last-event-id"];
  const lastId = Array.isArray(header) ? header[0] : header;
  if (lastId !== undefined && lastId.trim() !== "") {
    const m = /^(.+)\/(\d{1,15})$/.exec(lastId.trim());
    if (m !== null && RFC3339.test(m[1] ?? "")) return { kind: "afterSeq", seq: Number(m[2]) };
    if (RFC3339.test(lastId.trim())) return { kind: "afterTs", ts: Date.parse(lastId.trim()) };
    errors.push("Last-Event-ID: must be an event id this endpoint emitted (or an RFC 3339 timestamp)");
  }
  const since = query.get("since");
  if (since !== null) {
    if (!RFC3339.test(since)) errors.push("since: must be an RFC 3339 date-time");
    else return { kind: "since", ts: Date.parse(since) };
  }
  const tail = query.get("tail");
  if (tail !== null && (!/^\d+$/.test(tail) || Number(tail) > 5000))
    errors.push("tail: must be an integer from 0 to 5000");
  return { kind: "tail", n: tail === null ? 100 : Number(tail) };
}

export function streamPodLogs(call: RouteCall): void {
  const { req, res, params, query, sim } = call;
  const pod = sim.pods.store.visible(params.id ?? "");
  if (pod === undefined) return sendError(res, 404, `The requested Pod does not exist: ${params.id ?? ""}`);
  const errors: string[] = [];
  const source = query.get("source");
  if (source !== null && source !== "container" && source !== "system")
    errors.push("source: must be container or system");
  const cursor = parseCursor(call, errors);
  if (errors.length > 0) return sendError(res, 422, "Request validation failed.", {}, errors);
  const wanted = (e: LogEntry): boolean => source === null || e.source === (source as LogSource);

  const lines = pod.log.all().filter(wanted);
  const backfill =
    cursor.kind === "afterSeq"
      ? lines.filter((e) => e.seq > cursor.seq)
      : cursor.kind === "afterTs"
        ? lines.filter((e) => e.ts > cursor.ts)
        : cursor.kind === "since"
          ? lines.filter((e) => e.ts >= cursor.ts)
          : cursor.n === 0
            ? []
            : lines.slice(-cursor.n);

  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // send the status and headers now: with no backfill and no live line yet, Node would hold them until the first write (up to the 15 s keep-alive)
  res.flushHeaders();
  const send = (e: LogEntry): void => {
    res.write(
      `id: ${eventId(e)}\ndata: ${JSON.stringify({ ts: new Date(e.ts).toISOString(), source: e.source, line: e.line })}\n\n`,
    );
  };
  for (const e of backfill) send(e);
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
  keepAlive.unref();
  const unsubscribe = pod.log.subscribe({
    line: (e) => {
      if (wanted(e)) send(e);
    },
    end: () => {
      clearInterval(keepAlive);
      res.end();
    },
  });
  req.on("close", () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
  res.on("close", () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
}
