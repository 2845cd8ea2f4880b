import { MultiBar, Presets, type SingleBar } from "cli-progress";
import type { ArtifactFile, Downloaded } from "./artifact-download";
import { formatBytes } from "./render";

/** How `pull` shows its files: one bar per file on a terminal, one plain line per file otherwise. */
export class PullProgress {
  private multi?: MultiBar;
  private bar?: SingleBar;
  private readonly width: number;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    files: ArtifactFile[],
  ) {
    this.width = Math.min(48, Math.max(0, ...files.map((f) => f.path.length)));
  }

  private get live(): boolean {
    return this.stream.isTTY === true;
  }

  private line(text: string): void {
    if (this.multi) this.multi.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }

  start(file: ArtifactFile): void {
    if (!this.live) return;
    this.multi ??= new MultiBar(
      {
        stream: this.stream,
        format: " {file} |{bar}| {percentage}% {done}/{size} {status}",
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    const name =
      file.path.length > this.width ? `…${file.path.slice(-(this.width - 1))}` : file.path.padEnd(this.width);
    this.bar = this.multi.create(Math.max(1, file.sizeBytes), 0, {
      file: name,
      done: formatBytes(0),
      size: formatBytes(file.sizeBytes),
      status: "",
    });
  }

  progress(done: number): void {
    this.bar?.update(done, { done: formatBytes(done) });
  }

  retry(file: ArtifactFile, why: string, attempt: number): void {
    this.line(`${file.path}: ${why}; trying again (${attempt})`);
  }

  finish(d: Downloaded): void {
    const how =
      d.outcome === "present"
        ? "already present"
        : d.outcome === "resumed"
          ? `resumed from byte ${d.resumedFrom}`
          : "downloaded";
    if (this.bar) {
      this.bar.update(Math.max(1, d.sizeBytes), { done: formatBytes(d.sizeBytes), status: `${how}, sha256 ✓` });
      this.bar = undefined;
      return;
    }
    this.line(`${d.path}: ${formatBytes(d.sizeBytes)} ${how}, sha256 verified`);
  }

  /** ends the bars (after a failure too: the terminal gets its cursor back) */
  stop(): void {
    this.multi?.update();
    this.multi?.stop();
  }
}
