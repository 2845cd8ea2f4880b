import { Transform, type TransformCallback } from "node:stream";
import { AppError } from "../errors";
import { checkLine, type DatasetFormat } from "./jsonl-format";

export interface BadLine {
  line: number;
  reason: string;
}

export interface JsonlSummary {
  rowCount: number;
  format: DatasetFormat;
}

/** Bad lines reported at most; the upload stops at the last one. */
export const MAX_BAD_LINES = 10;
/** A single line longer than this is bad (and not kept in memory). */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Checks JSONL as it arrives, chunk by chunk: each non-empty line one JSON object in one supported
 * format, the same format on every line. Keeps only the current partial line in memory.
 */
export class JsonlChecker {
  rowCount = 0;
  format: DatasetFormat | null = null;
  readonly badLines: BadLine[] = [];
  private line = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private oversized = false;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

  get full(): boolean {
    return this.badLines.length >= MAX_BAD_LINES;
  }

  write(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length && !this.full) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl === -1) {
        this.keep(chunk.subarray(from));
        return;
      }
      this.keep(chunk.subarray(from, nl));
      this.finishLine();
      from = nl + 1;
    }
  }

  /** Call at the end of the input; returns the summary or throws UNPROCESSABLE with the bad lines. */
  end(): JsonlSummary {
    if (!this.full && (this.pendingBytes > 0 || this.oversized)) this.finishLine();
    if (this.badLines.length > 0) {
      throw new AppError("UNPROCESSABLE", `dataset has invalid lines (first at line ${this.badLines[0]?.line})`, {
        details: { badLines: this.badLines, truncated: this.full },
      });
    }
    if (this.format === null) throw new AppError("UNPROCESSABLE", "dataset has no rows", { details: { badLines: [] } });
    return { rowCount: this.rowCount, format: this.format };
  }

  /** The error for a checker that is full (stopped early). */
  fullError(): AppError {
    return new AppError("UNPROCESSABLE", `dataset has invalid lines (first at line ${this.badLines[0]?.line})`, {
      details: { badLines: this.badLines, truncated: true },
    });
  }

  private keep(part: Buffer): void {
    if (this.oversized || part.length === 0) return;
    if (this.pendingBytes + part.length > MAX_LINE_BYTES) {
      this.oversized = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private finishLine(): void {
    this.line += 1;
    const bytes = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const oversized = this.oversized;
    this.pending = [];
    this.pendingBytes = 0;
    this.oversized = false;
    if (oversized) return this.bad(`line longer than ${MAX_LINE_BYTES} bytes`);
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      return this.bad("not valid UTF-8");
    }
    if (this.line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text.trim() === "") return;
    const verdict = checkLine(text);
    if (!verdict.ok) return this.bad(verdict.reason);
    if (this.format === null) this.format = verdict.format;
    else if (verdict.format !== this.format)
      return this.bad(`format ${verdict.format} differs from the dataset's ${this.format} (mixed formats)`);
    this.rowCount += 1;
  }

  private bad(reason: string): void {
    if (this.badLines.length < MAX_BAD_LINES) this.badLines.push({ line: this.line, reason });
  }
}

/**
 * A pass-through Transform that runs a JsonlChecker over the bytes. It errors (so a pipeline into
 * storage aborts and keeps nothing) as soon as MAX_BAD_LINES are found, or at the end if any were.
 */
export class JsonlValidatorStream extends Transform {
  readonly checker = new JsonlChecker();
  summary: JsonlSummary | null = null;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.checker.write(chunk);
    if (this.checker.full) return cb(this.checker.fullError());
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.summary = this.checker.end();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}
