/** Reads a /v2/pods/{id}/logs Server-Sent Events stream over real HTTP (no EventSource in Node 20). */
import { KEY } from "./helpers";

export interface LogEvent {
  id: string;
  data: { ts: string; source: string; line: string };
}

export interface SseStream {
  status: number;
  headers: Headers;
  events: LogEvent[];
  /** resolves once an event matches, rejects on timeout or when the stream ends first */
  until(what: string, match: (e: LogEvent) => boolean, timeoutMs?: number): Promise<LogEvent>;
  /** resolves when the server ends the stream */
  ended: Promise<void>;
  close(): void;
}

export async function openLogs(
  api: string,
  podId: string,
  query = "",
  headers: Record<string, string> = {},
  key = KEY,
): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(`${api}/pods/${podId}/logs${query}`, {
    headers: { authorization: `Bearer ${key}`, ...headers },
    signal: abort.signal,
  });
  const events: LogEvent[] = [];
  const waiters = new Set<() => void>();
  let done = false;
  const ended = (async () => {
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let sep = buffer.indexOf("\n\n");
        while (sep >= 0) {
          const block = buffer.slice(0, sep);
          buffer = buffer.slice(sep + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) as LogEvent["data"] });
          sep = buffer.indexOf("\n\n");
        }
        for (const w of waiters) w();
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      for (const w of waiters) w();
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    events,
    ended,
    close: () => abort.abort(),
    until: (what, match, timeoutMs = 10_000) =>
      new Promise<LogEvent>((resolve, reject) => {
        const check = (): void => {
          const hit = events.find(match);
          if (hit !== undefined) finish(() => resolve(hit));
          else if (done)
            finish(() =>
              reject(
                new Error(`log stream ended before ${what}; got ${JSON.stringify(events.map((e) => e.data.line))}`),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.map((e) => e.data.line))}`)),
            ),
          timeoutMs,
        );
        const finish = (then: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          then();
        };
        waiters.add(check);
        check();
      }),
  };
}
