import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface SseOptions {
  headers?: Record<string, string>;
  /** resume after this event id (sent as Last-Event-ID) */
  lastEventId?: string;
  signal?: AbortSignal;
}

/** Thrown when the stream answers with an HTTP error instead of events. */
export class SseHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`stream answered ${status}: ${body.slice(0, 300)}`);
  }
}

/** The events of one server-sent-events response, in order, until the server ends it. */
export async function* sseEvents(url: string, opts: SseOptions = {}): AsyncGenerator<EventSourceMessage> {
  const headers: Record<string, string> = { accept: "text/event-stream", ...opts.headers };
  if (opts.lastEventId !== undefined) headers["last-event-id"] = opts.lastEventId;
  const res = await fetch(url, { headers, signal: opts.signal });
  if (!res.ok || !res.body) throw new SseHttpError(res.status, await res.text());
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e) });
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) yield queue.shift() as EventSourceMessage;
    }
  } finally {
    reader.releaseLock();
    await res.body.cancel().catch(() => undefined);
  }
}
