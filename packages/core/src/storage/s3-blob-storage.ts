import { Readable, pipeline } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AppError } from "../errors";
import type {
  BlobObject,
  BlobStat,
  BlobStorage,
  DirectTransfer,
  GetOptions,
  PresignedRequest,
  PresignOptions,
  PutOptions,
  PutResult,
  UploadedPart,
} from "./blob-storage";
import { assertSafeKey } from "./keys";
import { MeterStream } from "./meter";
import { createS3Client, fromS3Error, isS3NotFound, s3ErrorName, type S3Connection } from "./s3-client";

export type S3BlobStorageOptions = ({ client: S3Client } | S3Connection) & {
  bucket: string;
  /** every key lives under it, e.g. "datasets/" ("" for none) */
  prefix: string;
  /** part size of put's multipart uploads (S3's minimum, 5 MiB, and up); default 8 MiB */
  uploadPartBytes?: number;
};

const MiB = 1024 * 1024;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600; // SigV4's limit
const MAX_SINGLE_PUT_BYTES = 5 * 1024 * MiB; // S3's limit for one PUT or one part
const SHA256_HEX = /^[0-9a-f]{64}$/i;
/** the checksum stays a header (the client must send it, and it is signed) instead of moving to the query
 * (a new set each time: the presigner adds to it) */
const checksumAsHeader = () => ({ unhoistableHeaders: new Set(["x-amz-checksum-sha256"]) });

const invalid = (message: string): AppError => new AppError("VALIDATION_FAILED", message);
const base64OfHex = (hex: string): string => Buffer.from(hex, "hex").toString("base64");

/** `bytes 0-9/100` → 100 */
function totalOfContentRange(contentRange: string | undefined): number | undefined {
  const total = /\/(\d+)$/.exec(contentRange ?? "")?.[1];
  return total === undefined ? undefined : Number(total);
}

/** RFC 6266: a plain ASCII fallback, and the exact name in RFC 5987 encoding when it differs */
function attachment(filename: string): string {
  const fallback = filename.replace(/[^A-Za-z0-9._-]/g, "_") || "download";
  if (fallback === filename) return `attachment; filename="${filename}"`;
  const exact = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

/**
 * BlobStorage on an S3 bucket (AWS S3, Cloudflare R2, MinIO), under a prefix. It is also a DirectTransfer:
 * it signs URLs clients use to move bytes to and from the bucket themselves.
 */
export class S3BlobStorage implements BlobStorage, DirectTransfer {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly direct: DirectTransfer = this;
  private readonly uploadPartBytes: number;

  constructor(options: S3BlobStorageOptions) {
    this.client = "client" in options ? options.client : createS3Client(options);
    this.bucket = options.bucket;
    if (options.prefix !== "") {
      if (!options.prefix.endsWith("/")) throw invalid("the S3 prefix must end with /");
      assertSafeKey(options.prefix.slice(0, -1));
    }
    this.prefix = options.prefix;
    this.uploadPartBytes = options.uploadPartBytes ?? 8 * MiB;
    if (this.uploadPartBytes < 5 * MiB) throw invalid("uploadPartBytes is below S3's minimum part size (5 MiB)");
  }

  /** the object's key in the bucket; throws VALIDATION_FAILED for an unsafe key */
  objectKey(key: string): string {
    assertSafeKey(key);
    return `${this.prefix}${key}`;
  }

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const Key = this.objectKey(key);
    const meter = new MeterStream(options.maxBytes);
    const source = body instanceof Readable ? body : Readable.from(body);
    // a failure on either side destroys both; the upload sees it as the meter's error, stops and aborts its
    // multipart upload (its parts are dropped): the object only appears once every byte was read
    pipeline(source, meter, () => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: meter },
      partSize: this.uploadPartBytes,
      queueSize: 4,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      // the store failed: release the source the upload stopped reading
      meter.destroy();
      source.destroy();
      throw fromS3Error(err, key);
    }
    return { sizeBytes: meter.bytes, sha256: meter.digest() };
  }

  async get(key: string, options: GetOptions = {}): Promise<BlobObject> {
    const Key = this.objectKey(key);
    const start = options.start ?? 0;
    const end = options.end;
    if (!Number.isInteger(start) || start < 0) throw invalid("start is outside the object");
    if (end !== undefined && (!Number.isInteger(end) || end < start)) throw invalid("end is before start");
    const Range = start === 0 && end === undefined ? undefined : `bytes=${start}-${end ?? ""}`;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range }));
      const sizeBytes =
        (Range === undefined ? r.ContentLength : totalOfContentRange(r.ContentRange)) ?? r.ContentLength ?? 0;
      return { stream: r.Body as Readable, sizeBytes };
    } catch (err) {
      if (s3ErrorName(err) !== "InvalidRange") throw fromS3Error(err, key);
      // S3 refuses a range that starts at the end; reading from the end is reading nothing
      const st = await this.stat(key);
      if (st === null) throw new AppError("NOT_FOUND", "object not found");
      if (start !== st.sizeBytes) throw invalid("start is outside the object");
      return { stream: Readable.from([]), sizeBytes: st.sizeBytes };
    }
  }

  async stat(key: string): Promise<BlobStat | null> {
    const Key = this.objectKey(key);
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { sizeBytes: h.ContentLength ?? 0, modifiedAt: h.LastModified ?? new Date(0) };
    } catch (err) {
      if (isS3NotFound(err)) return null;
      throw fromS3Error(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (isS3NotFound(err)) return;
      throw fromS3Error(err, key);
    }
  }

  // ---- DirectTransfer ----

  /** the validity window of a URL signed now */
  private window({ expiresInSeconds }: PresignOptions): { expiresIn: number; signingDate: Date; expiresAt: Date } {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw invalid(`expiresInSeconds must be 1 to ${MAX_PRESIGN_SECONDS}`);
    }
    // SigV4 dates are whole seconds: the URL expires expiresInSeconds after this second began
    const signingDate = new Date(Math.floor(Date.now() / 1000) * 1000);
    return {
      expiresIn: expiresInSeconds,
      signingDate,
      expiresAt: new Date(signingDate.getTime() + expiresInSeconds * 1000),
    };
  }

  async presignGet(key: string, options: PresignOptions & { filename?: string }): Promise<PresignedRequest> {
    const Key = this.objectKey(key);
    const ResponseContentDisposition = options.filename === undefined ? undefined : attachment(options.filename);
    const { expiresAt, ...signing } = this.window(options);
    const url = await getSignedUrl(
      this.client,
      new GetObjectCommand({ Bucket: this.bucket, Key, ResponseContentDisposition }),
      signing,
    );
    return { method: "GET", url, headers: {}, expiresAt };
  }

  private checkedUpload(sizeBytes: number, sha256: string): string {
    if (!Number.isInteger(sizeBytes) || sizeBytes < 0 || sizeBytes > MAX_SINGLE_PUT_BYTES) {
      throw invalid(`sizeBytes must be 0 to ${MAX_SINGLE_PUT_BYTES} for one PUT`);
    }
    if (!SHA256_HEX.test(sha256)) throw invalid("sha256 must be 64 hex digits");
    return base64OfHex(sha256);
  }

  async presignPut(
    key: string,
    options: PresignOptions & { sizeBytes: number; sha256: string },
  ): Promise<PresignedRequest> {
    const Key = this.objectKey(key);
    const ChecksumSHA256 = this.checkedUpload(options.sizeBytes, options.sha256);
    const { expiresAt, ...signing } = this.window(options);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key,
      ContentLength: options.sizeBytes,
      ChecksumSHA256,
    });
    const url = await getSignedUrl(this.client, command, { ...signing, ...checksumAsHeader() });
    // both are signed: another size is refused (403), other bytes too (400 BadDigest)
    const headers = { "content-length": String(options.sizeBytes), "x-amz-checksum-sha256": ChecksumSHA256 };
    return { method: "PUT", url, headers, expiresAt };
  }

  async createMultipartUpload(key: string): Promise<string> {
    const Key = this.objectKey(key);
    try {
      const r = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ChecksumAlgorithm: "SHA256" }),
      );
      if (!r.UploadId) throw new AppError("INTERNAL", "the store answered no upload id");
      return r.UploadId;
    } catch (err) {
      throw fromS3Error(err, key);
    }
  }

  async presignPart(
    key: string,
    uploadId: string,
    part: { partNumber: number; sizeBytes: number; sha256: string },
    options: PresignOptions,
  ): Promise<PresignedRequest> {
    const Key = this.objectKey(key);
    if (!Number.isInteger(part.partNumber) || part.partNumber < 1 || part.partNumber > 10_000)
      throw invalid("partNumber must be 1 to 10000");
    const ChecksumSHA256 = this.checkedUpload(part.sizeBytes, part.sha256);
    const { expiresAt, ...signing } = this.window(options);
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key,
      UploadId: uploadId,
      PartNumber: part.partNumber,
      ContentLength: part.sizeBytes,
      ChecksumSHA256,
    });
    const url = await getSignedUrl(this.client, command, { ...signing, ...checksumAsHeader() });
    return {
      method: "PUT",
      url,
      headers: { "content-length": String(part.sizeBytes), "x-amz-checksum-sha256": ChecksumSHA256 },
      expiresAt,
    };
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    const Key = this.objectKey(key);
    if (parts.length === 0) throw invalid("a multipart upload needs at least one part");
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    if (sorted.some((p, i) => i > 0 && p.partNumber === sorted[i - 1]?.partNumber))
      throw invalid("a part number appears twice");
    if (sorted.some((p) => p.sha256 !== undefined && !SHA256_HEX.test(p.sha256)))
      throw invalid("sha256 must be 64 hex digits");
    const Parts = sorted.map((p) => ({
      PartNumber: p.partNumber,
      ETag: p.etag,
      ...(p.sha256 === undefined ? {} : { ChecksumSHA256: base64OfHex(p.sha256) }),
    }));
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key,
          UploadId: uploadId,
          MultipartUpload: { Parts },
        }),
      );
    } catch (err) {
      throw fromS3Error(err, key);
    }
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId }));
    } catch (err) {
      if (isS3NotFound(err)) return;
      throw fromS3Error(err, key);
    }
  }
}
