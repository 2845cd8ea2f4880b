import type { Config } from "../config";
import { AppError } from "../errors";
import type { BlobStorage } from "./blob-storage";
import { LocalFileStorage } from "./local-file-storage";
import { S3BlobStorage } from "./s3-blob-storage";

/**
 * The store of datasets or artifacts that the configuration names (docs/artifacts.md): STORAGE=local, folders on
 * this host (DATASET_DIR, ARTIFACT_DIR); STORAGE=s3, the bucket S3_BUCKET under `datasets/` or `artifacts/`,
 * with credentials from the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, profiles, roles).
 */
export function createBlobStorage(config: Config, what: "datasets" | "artifacts"): BlobStorage {
  const env = config.env;
  if (env.STORAGE === "local") return new LocalFileStorage(what === "datasets" ? env.DATASET_DIR : env.ARTIFACT_DIR);
  if (env.S3_BUCKET === undefined) throw new AppError("CONFIG_INVALID", "S3_BUCKET: required when STORAGE=s3");
  return new S3BlobStorage({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    bucket: env.S3_BUCKET,
    prefix: `${what}/`,
  });
}
