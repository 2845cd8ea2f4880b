import { Transform, type TransformCallback } from "node:stream";

/**
 * OpenAI's DPO rows (`{"input": {"messages"}, "preferred_output", "non_preferred_output"}`) as trainpod's
 * `preference_chat` rows (`{"prompt", "chosen", "rejected"}`), so a file made for OpenAI's preference fine-tuning
 * uploads through the same validation. Any other line (chat rows, trainpod's own formats, a bad line) is left as it
 * is, byte for byte: line numbers in the validator's errors stay the file's.
 */
export function openAiDpoRow(line: string): string {
  if (!line.includes('"preferred_output"')) return line;
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof row !== "object" || row === null || Array.isArray(row)) return line;
  const { input, preferred_output, non_preferred_output, ...rest } = row as Record<string, unknown>;
  const messages = typeof input === "object" && input !== null ? (input as { messages?: unknown }).messages : undefined;
  if (messages === undefined || preferred_output === undefined || non_preferred_output === undefined) return line;
  return JSON.stringify({ ...rest, prompt: messages, chosen: preferred_output, rejected: non_preferred_output });
}

/** Lines longer than this pass through untouched (the validator refuses them for their length anyway). */
const MAX_REWRITE_BYTES = 8 * 1024 * 1024;
const NEWLINE = 0x0a;

/** A Transform applying openAiDpoRow to each line of a JSONL stream. */
export class OpenAiRowsStream extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** the current line outgrew MAX_REWRITE_BYTES: passed through until its end */
  private raw = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      this.takePart(chunk.subarray(start, nl + 1), true);
      start = nl + 1;
    }
    if (start < chunk.length) this.takePart(chunk.subarray(start), false);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.pendingBytes > 0) this.emitLine();
    cb();
  }

  private takePart(part: Buffer, ends: boolean): void {
    if (this.raw) {
      this.push(part);
      if (ends) this.raw = false;
      return;
    }
    this.pending.push(part);
    this.pendingBytes += part.length;
    if (ends) return this.emitLine();
    if (this.pendingBytes > MAX_REWRITE_BYTES) {
      for (const p of this.pending) this.push(p);
      this.pending = [];
      this.pendingBytes = 0;
      this.raw = true;
    }
  }

  private emitLine(): void {
    const bytes = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (bytes.indexOf('"preferred_output"') === -1) return void this.push(bytes);
    const text = bytes.toString("utf8");
    const eol = /\r?\n$/.exec(text)?.[0] ?? "";
    const body = text.slice(0, text.length - eol.length);
    const mapped = openAiDpoRow(body);
    this.push(mapped === body ? bytes : Buffer.from(mapped + eol, "utf8"));
  }
}
