export {
  type BlobObject,
  type BlobStat,
  type BlobStorage,
  type DirectTransfer,
  type GetOptions,
  type PresignedRequest,
  type PresignOptions,
  type PutOptions,
  type PutResult,
  type UploadedPart,
} from "./blob-storage";
export { assertSafeKey } from "./keys";
export { LocalFileStorage } from "./local-file-storage";
export { MeterStream } from "./meter";
export { S3BlobStorage, type S3BlobStorageOptions } from "./s3-blob-storage";
export { createS3Client, fromS3Error, isS3NotFound, s3ErrorName, type S3Connection } from "./s3-client";
export { createBlobStorage } from "./storage-from-config";
