import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { AppError } from "../errors";

/** A pass-through that counts bytes, hashes them (sha256) and stops past `maxBytes`. */
export class MeterStream extends Transform {
  bytes = 0;
  private readonly hash = createHash("sha256");

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      cb(
        new AppError("PAYLOAD_TOO_LARGE", `larger than the limit of ${this.maxBytes} bytes`, {
          details: { maxBytes: this.maxBytes },
        }),
      );
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}
