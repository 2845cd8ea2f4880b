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
  /** last byte to read, inclusive (an HTTP Range's end); default: the last byte */
  end?: number;
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

/** A request a client makes to the object store itself, signed by us: the bytes never pass through trainpod. */
export interface PresignedRequest {
  method: "GET" | "PUT";
  url: string;
  /** headers the client must send as they are (they are part of the signature) */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface PresignOptions {
  /** validity of the URL */
  expiresInSeconds: number;
}

/** One uploaded part of a multipart upload, as the client reports it. */
export interface UploadedPart {
  partNumber: number;
  /** the ETag the store answered the part's PUT with */
  etag: string;
  /** sha256 of the part (hex), when the part was uploaded with it */
  sha256?: string;
}

/**
 * What an object store that clients can reach directly offers (S3 and compatibles): presigned GETs and PUTs,
 * and multipart uploads whose parts carry their own sha256, which the store checks.
 */
export interface DirectTransfer {
  presignGet(key: string, options: PresignOptions & { filename?: string }): Promise<PresignedRequest>;
  /** a single PUT of exactly `sizeBytes` bytes whose sha256 (hex) the store checks */
  presignPut(key: string, options: PresignOptions & { sizeBytes: number; sha256: string }): Promise<PresignedRequest>;
  /** starts a multipart upload (parts checked by sha256); returns its upload id */
  createMultipartUpload(key: string): Promise<string>;
  presignPart(
    key: string,
    uploadId: string,
    part: { partNumber: number; sizeBytes: number; sha256: string },
    options: PresignOptions,
  ): Promise<PresignedRequest>;
  /** assembles the parts; the object appears only now */
  completeMultipartUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void>;
  /** drops an unfinished multipart upload and its parts; an unknown one is not an error */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
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
  /** Present when clients can reach the store directly (S3): then bytes go there, not through the API. */
  readonly direct?: DirectTransfer;
}
