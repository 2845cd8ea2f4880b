/** The slowest uplink a pod may have and still upload its artifacts to the bucket: 1 MiB/s (about 8.4 Mbit/s). */
export const SLOWEST_UPLOAD_BYTES_PER_SECOND = 1024 * 1024;

/** SigV4's limit on a presigned URL's validity: 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * How long the presigned PUT of `bytes` (a whole file, or one part) is valid: long enough for the bytes to go up
 * at the slowest supported uplink, on top of S3_PRESIGN_SECONDS for asking, starting and the last answer. Some
 * S3 servers refuse a PUT whose body ends after the expiry (docs/artifacts.md, "How long a presigned URL must
 * live"), and a fresh URL does not help then: the same PUT takes as long. The URL can only put those bytes (its
 * signature fixes their length and sha256), so a longer life gives nothing else away. At most 7 days.
 */
export function uploadUrlSeconds(
  bytes: number,
  presignSeconds: number,
  slowestBytesPerSecond: number = SLOWEST_UPLOAD_BYTES_PER_SECOND,
): number {
  const transfer = Math.ceil(Math.max(0, bytes) / slowestBytesPerSecond);
  return Math.min(MAX_PRESIGN_SECONDS, presignSeconds + transfer);
}
