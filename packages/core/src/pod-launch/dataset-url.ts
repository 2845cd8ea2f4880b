import { isTerminal } from "../deployment/state-machine";
import { AppError } from "../errors";
import type { PrismaClient } from "../db";
import type { BlobStorage } from "../storage";
import type { Clock } from "../time/clock";

export interface DatasetUrlDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** the dataset storage: only a bucket (`direct`) has presigned URLs to re-issue */
  storage: BlobStorage;
  /** validity of the presigned GET (S3_DATASET_PRESIGN_SECONDS) */
  presignSeconds: number;
}

export interface ReissuedDatasetUrl {
  url: string;
  expiresAt: Date;
}

/**
 * `POST /v1/runs/:id/dataset/url`: a fresh presigned GET of the deployment's dataset, for a pod whose single-use
 * token was spent on the redirect to the bucket and whose presigned URL expired before the download ended (it
 * resumes with Range on the new one). The run token authenticated the caller (the route checks it).
 *
 * NOT_A_BUCKET: the storage is the API's disk; the token URL streams the bytes and a broken transfer releases the
 * token, so there is nothing to re-issue. CONFLICT: the deployment has ended, or its token was not spent on a
 * redirect yet (the token URL comes first: it is what counts the download).
 */
export async function reissueDatasetUrl(deps: DatasetUrlDeps, deploymentId: string): Promise<ReissuedDatasetUrl> {
  const direct = deps.storage.direct;
  if (!direct)
    throw new AppError("NOT_A_BUCKET", "the dataset is served through the API at its token URL: no URL to re-issue");
  const deployment = await deps.prisma.deployment.findUnique({ where: { id: deploymentId }, select: { status: true } });
  if (!deployment) throw new AppError("NOT_FOUND", "deployment not found");
  if (isTerminal(deployment.status))
    throw new AppError("CONFLICT", `the deployment has ended (${deployment.status}): its dataset is not served`);
  const spent = await deps.prisma.datasetDownloadToken.findFirst({
    where: { deploymentId, usedAt: { not: null } },
    orderBy: { usedAt: "desc" },
    select: { datasetId: true, dataset: { select: { storageKey: true, deletedAt: true } } },
  });
  if (!spent)
    throw new AppError("CONFLICT", "the dataset's download URL was not used yet: GET it first (it redirects once)");
  if (spent.dataset.deletedAt) throw new AppError("NOT_FOUND", "the dataset was deleted");
  const signed = await direct.presignGet(spent.dataset.storageKey, {
    expiresInSeconds: deps.presignSeconds,
    filename: `${spent.datasetId}.jsonl`,
  });
  return { url: signed.url, expiresAt: signed.expiresAt };
}
