import { S3Client } from "@aws-sdk/client-s3";
import { AppError } from "../errors";

export interface S3Connection {
  /** the S3 API endpoint; unset: AWS S3 in `region` */
  endpoint?: string;
  region: string;
  /** endpoint/bucket/key URLs (MinIO and most S3-compatible servers) */
  forcePathStyle?: boolean;
  /** unset: the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, profiles, roles) */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * An S3 client for AWS S3 and compatibles (R2, MinIO). Checksums only where S3 requires them: the SDK's default
 * (a CRC32 on every upload, sent as a trailer, and its check on every download) is refused or mishandled by
 * several S3-compatible servers. Where trainpod wants a checksum it asks for it explicitly (x-amz-checksum-sha256).
 */
export function createS3Client(connection: S3Connection): S3Client {
  // On Node < 22 the SDK warns once per process that its releases after the first week of January 2027 need
  // Node 22; trainpod still supports Node 20. This variable is the SDK's documented switch for that warning
  // (aws/aws-sdk-js-v3#7983); set it to anything but "true" to see the warning again.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    region: connection.region,
    endpoint: connection.endpoint,
    forcePathStyle: connection.forcePathStyle ?? false,
    credentials: connection.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** The S3 error code of an SDK error (NoSuchKey, NotFound, InvalidRange, ...). */
export function s3ErrorName(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "name" in err && typeof err.name === "string"
    ? err.name
    : undefined;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** HeadObject answers a bare 404 (no body, so no code); the others NoSuchKey. A missing bucket is not "not found". */
export function isS3NotFound(err: unknown): boolean {
  const name = s3ErrorName(err);
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || name === "NoSuchUpload" || httpStatus(err) === 404;
}

const REFUSED_PARTS = new Set(["InvalidPart", "InvalidPartOrder", "EntityTooSmall", "BadDigest", "InvalidDigest"]);

/** S3 errors where an AppError says more (NOT_FOUND, refused parts); anything else as it is. */
export function fromS3Error(err: unknown, what: string): unknown {
  if (err instanceof AppError) return err;
  const name = s3ErrorName(err);
  if (isS3NotFound(err)) return new AppError("NOT_FOUND", `${what}: not found`, { cause: err });
  if (name === "EntityTooLarge")
    return new AppError("PAYLOAD_TOO_LARGE", `${what}: too large for the store`, { cause: err });
  if (name !== undefined && REFUSED_PARTS.has(name)) {
    const message = err instanceof Error ? err.message : name;
    return new AppError("UNPROCESSABLE", `${what}: the store refused it (${name}: ${message})`, {
      cause: err,
      details: { s3Code: name },
    });
  }
  return err;
}
