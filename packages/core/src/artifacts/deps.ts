import type { PrismaClient } from "../db";
import type { BlobStorage } from "../storage";
import type { Clock } from "../time/clock";

export interface ArtifactLimits {
  /** one file (ARTIFACT_MAX_BYTES) */
  maxFileBytes: number;
  /** all files of one deployment together (ARTIFACT_MAX_TOTAL_BYTES) */
  maxTotalBytes: number;
  /** files larger than this go up in parts of this size when the storage takes direct uploads */
  partSizeBytes: number;
  /** validity of a presigned URL */
  presignSeconds: number;
}

export interface ArtifactDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** the artifact storage (keys: <deploymentId>/<path>) */
  storage: BlobStorage;
  limits: ArtifactLimits;
}

/** What the pod does next for one file. */
export type UploadMode = "api" | "s3" | "s3-multipart" | "stored";

export interface UploadPlan {
  path: string;
  mode: UploadMode;
  partSizeBytes: number;
  partCount: number;
}

export interface ArtifactFile {
  path: string;
  sizeBytes: number;
  sha256: string;
}
