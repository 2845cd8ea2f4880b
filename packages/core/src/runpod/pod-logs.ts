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

/**
 * Reads a log stream until its backfill is over: RunPod's stream stays open for live lines and
 * marks no end of backfill, so "over" is the first line written after the read began, or `idleMs`
 * without a line (a quiet pod), or `maxMs` in all (clocks that disagree).
 */
export async function collectUntilIdle(open: (signal: AbortSignal) => AsyncGenerator<PodLogLine>, options: Required<Pick<RecentLogsOptions, "idleMs" | "maxMs">>): Promise<PodLogLine[]> {
  const controller = new AbortController();
  const lines: PodLogLine[] = [];
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(new Error("idle")), options.idleMs);
  };
  const deadline = setTimeout(() => controller.abort(new Error("deadline")), options.maxMs);
  armIdle();
  const cutoff = Date.now();
  try {
    for await (const line of open(controller.signal)) {
      if (Date.parse(line.ts) > cutoff) break;
      lines.push(line);
      armIdle();
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(idle);
    clearTimeout(deadline);
    controller.abort(new Error("done"));
  }
  return lines;
}

/** `[system] line` / `[container] line`: how RunPod's lines read in a failure's log. */
export function formatLogLine(line: PodLogLine): string {
  return `[${line.source}] ${line.line}`;
}
