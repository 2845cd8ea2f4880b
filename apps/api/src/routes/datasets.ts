import { PassThrough } from "node:stream";
import { Router, type RequestHandler } from "express";
import {
  AppError,
  datasetView,
  deleteOwnDataset,
  getOwnDataset,
  listDatasets,
  uploadDataset,
  type BlobStorage,
  type Clock,
  type PrismaClient,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";

export interface DatasetRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  storage: BlobStorage;
  maxBytes: number;
  /** the API key middleware */
  auth: RequestHandler;
}

const UPLOAD_TYPES = new Set([
  "application/x-ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "application/octet-stream",
  "text/plain",
]);

function unsupported(message: string): Error {
  return Object.assign(new Error(message), { status: 415, expose: true });
}

/** Upload (raw JSONL body, streamed, never buffered whole), list and read the caller's datasets. */
export function datasetRoutes(deps: DatasetRouteDeps): Router {
  const router = Router();

  router.post("/v1/datasets", deps.auth, async (req, res) => {
    const userId = currentUserId(req);
    const type = (req.get("content-type") ?? "application/octet-stream").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!UPLOAD_TYPES.has(type)) throw unsupported(`Content-Type must be one of ${[...UPLOAD_TYPES].join(", ")}`);
    const encoding = (req.get("content-encoding") ?? "identity").toLowerCase();
    if (encoding !== "identity") throw unsupported("Content-Encoding is not supported; send the JSONL uncompressed");
    const declared = Number(req.get("content-length") ?? Number.NaN);
    if (Number.isFinite(declared) && declared > deps.maxBytes) {
      res.set("Connection", "close");
      throw new AppError("PAYLOAD_TOO_LARGE", `larger than the limit of ${deps.maxBytes} bytes`, {
        details: { maxBytes: deps.maxBytes },
      });
    }
    // the request feeds a pass-through, so a failed upload stops reading without destroying the socket
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    req.pipe(body);
    req.once("error", (err) => body.destroy(err));
    try {
      const dataset = await uploadDataset(
        { prisma: deps.prisma, storage: deps.storage, maxBytes: deps.maxBytes },
        { userId, name: String(req.query.name ?? ""), stream: body },
      );
      res.status(201).location(`/v1/datasets/${dataset.id}`).json(datasetView(dataset));
    } catch (err) {
      if (!req.complete) {
        req.unpipe(body);
        res.set("Connection", "close");
        req.resume();
      }
      throw err;
    }
  });

  router.get("/v1/datasets", deps.auth, async (req, res) => {
    const page = await listDatasets(deps.prisma, currentUserId(req), req.query);
    res.json({ items: page.items.map(datasetView), nextCursor: page.nextCursor });
  });

  router.get("/v1/datasets/:id", deps.auth, async (req, res) => {
    res.json(datasetView(await getOwnDataset(deps.prisma, currentUserId(req), String(req.params.id))));
  });

  router.delete("/v1/datasets/:id", deps.auth, async (req, res) => {
    await deleteOwnDataset(deps, currentUserId(req), String(req.params.id));
    res.status(204).end();
  });

  return router;
}
