import type { Readable } from "node:stream";

export interface PutOptions {
  /** abort with PAYLOAD_TOO_LARGE (and keep nothing) past this many bytes */
  maxBytes?: number;
}

export interface PutResult {
  sizeBytes: number;
  /** sha256 of the stored bytes, hex */
  sha256: string;
}

export interface GetOptions {
  /** first byte to read (for resumed transfers) */
  start?: number;
}

export interface BlobObject {
  /** the bytes from `start` to the end */
  stream: Readable;
  /** size of the whole object */
  sizeBytes: number;
}

export interface BlobStat {
  sizeBytes: number;
  modifiedAt: Date;
}

/**
 * Where datasets and artifacts live. Shaped like an object store (S3-compatible later): flat keys
 * that trainpod generates, whole-object writes that either fully happen or not at all.
 */
export interface BlobStorage {
  /** Streams `body` to `key`, measuring size and sha256 on the way. Nothing is kept on failure. */
  put(key: string, body: Readable | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>;
  /** NOT_FOUND when there is no such object. */
  get(key: string, options?: GetOptions): Promise<BlobObject>;
  /** null when there is no such object. */
  stat(key: string): Promise<BlobStat | null>;
  /** Removes the object; a missing one is not an error. */
  delete(key: string): Promise<void>;
}
