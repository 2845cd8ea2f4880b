import { pipeline } from "node:stream";
import { Router, type Response } from "express";
import {
  AppError,
  claimDatasetToken,
  markDatasetTokenUsed,
  releaseDatasetToken,
  type BlobStorage,
  type Clock,
  type DatasetClaim,
  type Logger,
  type PrismaClient,
} from "@trainpod/core";

export interface DownloadRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  storage: BlobStorage;
  logger: Logger;
  /** validity of the presigned GET the download answers with when the storage is a bucket */
  presignSeconds: number;
}

/**
 * `GET /v1/datasets/download?token=...`: the token is the credential (no API key). The token is
 * claimed atomically; a completed transfer marks it used, a broken one releases it for a retry.
 */
export function datasetDownloadRoutes(deps: DownloadRouteDeps): Router {
  const router = Router();

  router.all("/v1/datasets/download", async (req, res) => {
    res.set("Cache-Control", "no-store");
    res.set("Referrer-Policy", "no-referrer");
    if (req.method !== "GET") {
      // HEAD would otherwise run the GET handler and spend the token
      res.set("Allow", "GET");
      res.status(405).json({ error: { code: "METHOD_NOT_ALLOWED", message: "use GET" } });
      return;
    }
    const token = typeof req.query.token === "string" ? req.query.token : undefined;
    const claim = await claimDatasetToken(deps.prisma, deps.clock, token);
    const log = deps.logger.child({
      requestId: req.id,
      tokenId: claim.tokenId,
      datasetId: claim.datasetId,
      deploymentId: claim.deploymentId,
    });
    if (deps.storage.direct) {
      await redirectToBucket(deps, claim, res, log);
      return;
    }
    let file;
    try {
      file = await deps.storage.get(claim.storageKey);
    } catch (err) {
      await releaseDatasetToken(deps.prisma, claim);
      if (err instanceof AppError && err.code === "NOT_FOUND") log.error("dataset file missing from storage");
      throw err;
    }
    if (file.sizeBytes !== claim.sizeBytes)
      log.warn("dataset size differs from its record", { stored: file.sizeBytes, recorded: claim.sizeBytes });
    const body = { sent: 0, size: file.sizeBytes };
    file.stream.on("data", (chunk: Buffer) => (body.sent += chunk.length));
    settleOnClose(deps, claim, res, log, body);
    res.writeHead(200, {
      "Content-Type": "application/x-ndjson",
      "Content-Length": String(file.sizeBytes),
      "Content-Disposition": `attachment; filename="${claim.datasetId}.jsonl"`,
      "X-Content-SHA256": claim.sha256,
      ETag: `"sha256-${claim.sha256}"`,
      "Accept-Ranges": "none",
    });
    // pipeline destroys the file stream (closing its handle) however the response ends, even when
    // the client went away before we got here; a read error destroys the response
    pipeline(file.stream, res, (err) => {
      if (err && !res.writableFinished && (err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") {
        log.error("dataset read failed mid-transfer", { err });
      }
    });
  });

  return router;
}

/**
 * S3: the token stays the credential and is spent here, once: the answer is a presigned GET of the dataset,
 * valid S3_DATASET_PRESIGN_SECONDS, so the bytes go from the bucket to the pod. A second claim is refused
 * (TOKEN_USED); a pod whose URL expired mid-download gets a fresh one through its run token
 * (POST /v1/runs/:id/dataset/url).
 */
async function redirectToBucket(
  deps: DownloadRouteDeps,
  claim: DatasetClaim,
  res: Response,
  log: Logger,
): Promise<void> {
  let url: string;
  try {
    url = (
      await deps.storage.direct!.presignGet(claim.storageKey, {
        expiresInSeconds: deps.presignSeconds,
        filename: `${claim.datasetId}.jsonl`,
      })
    ).url;
  } catch (err) {
    await releaseDatasetToken(deps.prisma, claim);
    throw err;
  }
  await markDatasetTokenUsed(deps.prisma, deps.clock, claim);
  log.info("dataset download redirected to the bucket", { bytes: claim.sizeBytes, validSeconds: deps.presignSeconds });
  res.set({ "X-Content-SHA256": claim.sha256, ETag: `"sha256-${claim.sha256}"` }).redirect(302, url);
}

/**
 * Marks the token used when the whole body was handed to the socket, releases it otherwise.
 * A client that has all Content-Length bytes may close before the file stream's 'end' reaches
 * res.end() (seen with curl on small files), so every body byte sent with nothing left buffered
 * counts as complete too.
 */
function settleOnClose(
  deps: DownloadRouteDeps,
  claim: DatasetClaim,
  res: Response,
  log: Logger,
  body: { sent: number; size: number },
): void {
  res.once("close", () => {
    const done = res.writableFinished || (body.sent === body.size && res.writableLength === 0);
    const settle = done
      ? markDatasetTokenUsed(deps.prisma, deps.clock, claim)
      : releaseDatasetToken(deps.prisma, claim);
    settle.then(
      () =>
        log.info(done ? "dataset downloaded" : "dataset download broke off; token released", {
          bytes: claim.sizeBytes,
        }),
      (err: unknown) => log.error("could not settle the download token", { err, done }),
    );
  });
}
