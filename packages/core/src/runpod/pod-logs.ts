import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { RecentLogsOptions } from "./client";
import { PodLogLineSchema, type PodLogLine } from "./schemas";

/** The lines of an SSE body (GET /v2/pods/{id}/logs), each `data:` parsed; malformed events are skipped. */
export async function* sseLogLines(body: ReadableStream<Uint8Array>): AsyncGenerator<PodLogLine> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
        const line = parseLine(e);
        if (line !== null) yield line;
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}

function parseLine(e: EventSourceMessage): PodLogLine | null {
  try {
    const parsed = PodLogLineSchema.safeParse(JSON.parse(e.data));
    if (!parsed.success) return null;
    return e.id === undefined ? parsed.data : { ...parsed.data, id: e.id };
  } catch {
    return null;
  }
}

export interface BackfillLimits {
  /** the backfill is over after this long without a line (a quiet pod) */
  idleMs: number;
  /** ...or after this long in all (clocks that disagree) */
  maxMs: number;
  /** the caller's own abort (a client gone) */
  signal?: AbortSignal;
}

/**
 * The lines of a log stream until its backfill is over: RunPod's stream stays open for live lines and
 * marks no end of backfill, so "over" is the first line written after the read began (a busy pod never
 * goes idle), or `idleMs` without a line, or `maxMs` in all. The stream is closed when it ends.
 */
export async function* untilBackfillOver(
  open: (signal: AbortSignal) => AsyncGenerator<PodLogLine>,
  limits: BackfillLimits,
): AsyncGenerator<PodLogLine> {
  const controller = new AbortController();
  const outer = (): void => controller.abort(limits.signal?.reason);
  limits.signal?.addEventListener("abort", outer, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(new Error("idle")), limits.idleMs);
  };
  const deadline = setTimeout(() => controller.abort(new Error("deadline")), limits.maxMs);
  armIdle();
  const cutoff = Date.now();
  try {
    for await (const line of open(controller.signal)) {
      if (Date.parse(line.ts) > cutoff) return;
      yield line;
      armIdle();
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(idle);
    clearTimeout(deadline);
    limits.signal?.removeEventListener("abort", outer);
    controller.abort(new Error("done"));
  }
}

/** The backfill of a log stream, collected (untilBackfillOver). */
export async function collectUntilIdle(
  open: (signal: AbortSignal) => AsyncGenerator<PodLogLine>,
  limits: Required<Pick<RecentLogsOptions, "idleMs" | "maxMs">>,
): Promise<PodLogLine[]> {
  const lines: PodLogLine[] = [];
  for await (const line of untilBackfillOver(open, limits)) lines.push(line);
  return lines;
}

/** `[system] line` / `[container] line`: how RunPod's lines read in a failure's log. */
export function formatLogLine(line: PodLogLine): string {
  return `[${line.source}] ${line.line}`;
}
