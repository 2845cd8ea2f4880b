import { setTimeout as sleep } from "node:timers/promises";
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import { ApiError, type ApiClient, type Json } from "./api-client";
import { CliError } from "./exit-codes";
import { renderEvent, renderPhase } from "./render";
import { SseHttpError, sseEvents } from "./sse";

/** In a pipe, a phase's progress is printed at most this often (the rows print its start and its end). */
const PIPE_PHASE_EVERY_MS = 10_000;

/** Where watch writes: a live bar on a terminal, plain lines otherwise (pipes, CI, tests). */
class WatchOutput {
  private multi?: MultiBar;
  private bar?: SingleBar;
  private printed = { text: "", at: 0 };

  constructor(private readonly stream: NodeJS.WriteStream) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  line(text: string): void {
    if (this.multi) this.multi.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }

  /** The one bar: a label (the phase), done of total, and the line's text. */
  private draw(label: string, value: number, total: number, detail: string): void {
    if (!this.multi)
      this.multi = new MultiBar(
        { stream: this.stream, format: " {label} |{bar}| {detail}", hideCursor: true, clearOnComplete: false },
        Presets.shades_classic,
      );
    if (!this.bar) this.bar = this.multi.create(total, 0, { label, detail });
    this.bar.setTotal(total);
    this.bar.update(value, { label, detail });
  }

  progress(step: number, total: number | null, loss: unknown, fallback: string[]): void {
    if (!this.tty || total === null) {
      fallback.forEach((l) => this.line(l));
      return;
    }
    this.draw("train", step, total, `${step}/${total} steps | loss ${loss ?? "-"}`);
  }

  /**
   * A `live` frame (the deployment's progress and phase at the server's last read): on a terminal it moves the
   * bar (training steps the timeline's rows leave out included); in a pipe a phase's progress is a line now and then.
   */
  live(view: Json): void {
    const p = view.phase as Json | null;
    const step = view.progress?.step;
    const total = view.progress?.totalSteps;
    if (this.tty && typeof step === "number" && typeof total === "number" && (!p || p.name === "train")) {
      this.progress(step, total, view.progress.loss, []);
      return;
    }
    if (!p || p.state !== "progress") return;
    const text = renderPhase(p);
    if (this.tty && typeof p.total === "number" && p.total > 0) {
      this.draw(String(p.name), Number(p.done ?? 0), p.total, text);
      return;
    }
    const now = Date.now();
    if (text === this.printed.text || now - this.printed.at < PIPE_PHASE_EVERY_MS) return;
    this.printed = { text, at: now };
    this.line(`${new Date(now).toISOString().slice(11, 19)} ▸ ${text}`);
  }

  stop(): void {
    // log lines wait for the next redraw: flush them before the bar goes
    this.multi?.update();
    this.multi?.stop();
  }
}

export interface WatchOptions {
  /** how many times a dropped stream is resumed (with Last-Event-ID) before giving up */
  reconnects?: number;
  stream?: NodeJS.WriteStream;
}

/**
 * Follows GET /v1/deployments/:id/events/stream: status changes, phases, progress and log lines as they
 * happen, and the `live` frames (the current phase's progress: "model_download 3.2/16.0 GB"), resuming after
 * the last seen event id if the connection drops or the server answers 429 or 5xx (backing off, at most
 * `reconnects` times in a row). Resolves with the deployment as the stream's final `end` event carries it.
 */
export async function watchDeployment(api: ApiClient, id: string, opts: WatchOptions = {}): Promise<Json> {
  const out = new WatchOutput(opts.stream ?? process.stdout);
  let lastEventId: string | undefined;
  let failures = 0;
  let lastError = "the stream ended before the run did";
  const maxReconnects = opts.reconnects ?? 20;
  try {
    for (;;) {
      try {
        for await (const msg of sseEvents(api.url(`/v1/deployments/${id}/events/stream`), {
          headers: api.authHeaders,
          lastEventId,
        })) {
          failures = 0;
          if (msg.event === "end") return JSON.parse(msg.data) as Json;
          if (msg.event === "live") {
            out.live(JSON.parse(msg.data) as Json);
            continue;
          }
          const e = JSON.parse(msg.data) as Json;
          if (msg.id) lastEventId = msg.id;
          if (e.type === "progress")
            out.progress(
              Number(e.data?.step ?? 0),
              (e.data?.totalSteps as number | null) ?? null,
              e.data?.loss,
              renderEvent(e),
            );
          else renderEvent(e).forEach((l) => out.line(l));
        }
      } catch (err) {
        // 429 (too many open streams) and 5xx (a restart) pass: try again, as for a dropped stream
        if (err instanceof SseHttpError && err.status !== 429 && err.status < 500) throw fromHttp(err);
        lastError = (err as Error).message;
      }
      if (++failures > maxReconnects) throw new CliError(`lost the event stream: ${lastError}`);
      // the stream ended without `end` (server restart, proxy timeout): resume where it stopped
      await sleep(Math.min(5000, 500 * 2 ** Math.min(failures, 4)));
    }
  } finally {
    out.stop();
  }
}

function fromHttp(err: SseHttpError): ApiError {
  try {
    const body = JSON.parse(err.body) as { error: { code: string; message: string; details?: unknown } };
    return new ApiError(err.status, body.error.code, body.error.message, body.error.details);
  } catch {
    return new ApiError(err.status, "HTTP_ERROR", err.body.slice(0, 300), undefined);
  }
}
