import { createWriteStream, type WriteStream } from "node:fs";

/** A pod's container output: appended to a file, and the last `tailChars` kept in memory. */
export class PodLog {
  private readonly file: WriteStream;
  private tailText = "";
  private closed = false;

  constructor(
    readonly path: string,
    private readonly tailChars: number,
  ) {
    this.file = createWriteStream(path, { flags: "a" });
    this.file.on("error", () => undefined);
  }

  write(chunk: Buffer | string): void {
    const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
    this.tailText = (this.tailText + text).slice(-this.tailChars);
    if (!this.closed) this.file.write(text);
  }

  /** A line from the sim itself (boot, exit, restart), marked so it is not mistaken for container output. */
  note(text: string): void {
    this.write(`[runpod-sim ${new Date().toISOString()}] ${text}\n`);
  }

  tail(): string {
    return this.tailText;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.file.end(resolve));
  }
}
