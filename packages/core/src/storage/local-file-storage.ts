import { randomUUID } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../errors";
import type { BlobObject, BlobStat, BlobStorage, GetOptions, PutOptions, PutResult } from "./blob-storage";
import { assertSafeKey } from "./keys";
import { MeterStream } from "./meter";

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function inside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/** a file where a folder must be, or a folder where a file must be (found by the API fuzz: `a` then `a/a`) */
function collides(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR" || code === "ENOTEMPTY";
}
const collision = (): AppError => new AppError("CONFLICT", "the key collides with an existing object or folder");

const notFound = (): AppError => new AppError("NOT_FOUND", "object not found");
const escapes = (): AppError => new AppError("VALIDATION_FAILED", "invalid storage key");

/**
 * BlobStorage on a local folder. Every key is checked (see assertSafeKey), resolved, and its real
 * path (symlinks followed) must stay inside the real root. Writes go to a temp file renamed on success.
 */
export class LocalFileStorage implements BlobStorage {
  readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(rootDir: string) {
    this.root = path.resolve(rootDir);
  }

  private async rootReal(): Promise<string> {
    this.realRoot ??= fs.mkdir(this.root, { recursive: true }).then(() => fs.realpath(this.root));
    try {
      return await this.realRoot;
    } catch (err) {
      this.realRoot = undefined;
      throw err;
    }
  }

  /** The lexical path of a key under the root (no file-system access). */
  private lexical(key: string): string {
    assertSafeKey(key);
    const full = path.resolve(this.root, ...key.split("/"));
    if (!inside(this.root, full)) throw escapes();
    return full;
  }

  /** The real path of an existing object, checked to be inside the real root. */
  async resolve(key: string): Promise<string> {
    const full = this.lexical(key);
    const rootReal = await this.rootReal();
    let real: string;
    try {
      real = await fs.realpath(full);
    } catch (err) {
      if (isNotFound(err)) throw notFound();
      throw err;
    }
    if (!inside(rootReal, real)) throw escapes();
    return real;
  }

  /** The directory a new object goes to: its deepest existing ancestor is checked before mkdir. */
  private async writableDir(key: string): Promise<{ dir: string; file: string }> {
    const full = this.lexical(key);
    const rootReal = await this.rootReal();
    let probe = path.dirname(full);
    for (;;) {
      try {
        const real = await fs.realpath(probe);
        if (real !== rootReal && !inside(rootReal, real)) throw escapes();
        break;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        probe = path.dirname(probe);
      }
    }
    await fs.mkdir(path.dirname(full), { recursive: true }).catch((err: unknown) => {
      throw collides(err) ? collision() : err;
    });
    const dirReal = await fs.realpath(path.dirname(full));
    if (dirReal !== rootReal && !inside(rootReal, dirReal)) throw escapes();
    return { dir: dirReal, file: path.join(dirReal, path.basename(full)) };
  }

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const { dir, file } = await this.writableDir(key);
    const tmp = path.join(dir, `.${path.basename(file)}.${randomUUID()}.tmp`);
    const meter = new MeterStream(options.maxBytes);
    const source = body instanceof Readable ? body : Readable.from(body);
    const sink = createWriteStream(tmp, { flags: "wx", mode: 0o640 });
    try {
      await pipeline(source, meter, sink);
      await fs.rename(tmp, file);
    } catch (err) {
      // a source that fails at once rejects the pipeline while the file is still being opened:
      // removing it before the sink has closed would leave the file behind
      if (!sink.closed) await new Promise<void>((resolve) => sink.once("close", () => resolve()));
      await fs.rm(tmp, { force: true });
      throw collides(err) ? collision() : err;
    }
    return { sizeBytes: meter.bytes, sha256: meter.digest() };
  }

  async get(key: string, options: GetOptions = {}): Promise<BlobObject> {
    const real = await this.resolve(key);
    const handle = await fs.open(real, "r");
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw notFound();
      const start = options.start ?? 0;
      if (!Number.isInteger(start) || start < 0 || start > st.size)
        throw new AppError("VALIDATION_FAILED", "start is outside the object");
      const end = options.end;
      if (end !== undefined && (!Number.isInteger(end) || end < start))
        throw new AppError("VALIDATION_FAILED", "end is before start");
      // like an HTTP range, an end past the object stops at its last byte
      const last = end === undefined ? undefined : Math.min(end, st.size - 1);
      if (last !== undefined && last < start) {
        await handle.close(); // from the end: nothing to read
        return { stream: Readable.from([]), sizeBytes: st.size };
      }
      const stream = handle.createReadStream({ start, end: last, autoClose: true, highWaterMark: 1024 * 1024 });
      return { stream, sizeBytes: st.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(key: string): Promise<BlobStat | null> {
    try {
      const st = await fs.stat(await this.resolve(key));
      return st.isFile() ? { sizeBytes: st.size, modifiedAt: st.mtime } : null;
    } catch (err) {
      if (err instanceof AppError && err.code === "NOT_FOUND") return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await fs.rm(await this.resolve(key), { force: true });
    } catch (err) {
      if (err instanceof AppError && err.code === "NOT_FOUND") return;
      throw err;
    }
  }
}
