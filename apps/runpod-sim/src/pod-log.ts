/**
 * A pod's log as RunPod's v2 log stream sees it: lines with a timestamp, a source (`container`:
 * the process's stdout/stderr; `system`: the sim's lifecycle notes) and a sequence number, kept
 * in memory up to `tailBytes` (and 5000 lines) for SSE backfill, pushed live to subscribers, and
 * appended to container.log on disk (system lines marked `[runpod-sim <ts>]`).
 */
import { createWriteStream, type WriteStream } from "node:fs";

export type LogSource = "container" | "system";

export interface LogEntry {
  seq: number;
  ts: number;
  source: LogSource;
  line: string;
}

export interface LogSubscriber {
  line(entry: LogEntry): void;
  /** the log was closed (the pod was terminated) */
  end(): void;
}

const MAX_LINES = 5000;
/** a container line longer than this is cut into pieces */
const MAX_LINE_CHARS = 16 * 1024;

/** Splits one output stream (stdout or stderr) into lines. */
export interface LineWriter {
  write(chunk: Buffer | string): void;
  flush(): void;
}

export class PodLog {
  private readonly file: WriteStream;
  private readonly entries: LogEntry[] = [];
  private bytes = 0;
  private seq = 0;
  private readonly subscribers = new Set<LogSubscriber>();
  closed = false;

  constructor(
    readonly path: string,
    private readonly tailBytes: number,
  ) {
    this.file = createWriteStream(path, { flags: "a" });
    this.file.on("error", () => undefined);
  }

  private add(source: LogSource, line: string): void {
    if (this.closed) return;
    const entry: LogEntry = { seq: ++this.seq, ts: Date.now(), source, line };
    this.entries.push(entry);
    this.bytes += line.length + 40;
    while (this.entries.length > 1 && (this.entries.length > MAX_LINES || this.bytes > this.tailBytes)) {
      const dropped = this.entries.shift() as LogEntry;
      this.bytes -= dropped.line.length + 40;
    }
    this.file.write(source === "system" ? `[runpod-sim ${new Date(entry.ts).toISOString()}] ${line}\n` : `${line}\n`);
    for (const s of this.subscribers) s.line(entry);
  }

  /** A line from the sim itself (scheduling, image pull, container start/exit, stop, terminate). */
  note(text: string): void {
    this.add("system", text);
  }

  /** A writer for one of the container's output streams. */
  stream(): LineWriter {
    let pending = "";
    return {
      write: (chunk) => {
        pending += typeof chunk === "string" ? chunk : chunk.toString("utf8");
        let nl = pending.indexOf("\n");
        while (nl >= 0) {
          this.add("container", pending.slice(0, nl).replace(/\r$/, ""));
          pending = pending.slice(nl + 1);
          nl = pending.indexOf("\n");
        }
        while (pending.length > MAX_LINE_CHARS) {
          this.add("container", pending.slice(0, MAX_LINE_CHARS));
          pending = pending.slice(MAX_LINE_CHARS);
        }
      },
      flush: () => {
        if (pending !== "") this.add("container", pending);
        pending = "";
      },
    };
  }

  /** The lines still in memory, oldest first. */
  all(): readonly LogEntry[] {
    return this.entries;
  }

  /** Plain-text tail for GET /admin/pods/{id}/logs. */
  tail(): string {
    return this.entries
      .map((e) => (e.source === "system" ? `[runpod-sim ${new Date(e.ts).toISOString()}] ${e.line}\n` : `${e.line}\n`))
      .join("");
  }

  subscribe(s: LogSubscriber): () => void {
    if (this.closed) {
      s.end();
      return () => undefined;
    }
    this.subscribers.add(s);
    return () => this.subscribers.delete(s);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
    return new Promise((resolve) => this.file.end(resolve));
  }
}
