import type { Request } from "express";
import { Router } from "express";
import busboy from "busboy";
import {
  AppError,
  deleteOwnDataset,
  fileObject,
  getOwnDataset,
  listDatasets,
  OpenAiRowsStream,
  openAiId,
  trainpodId,
  uploadDataset,
  type BlobStorage,
  type Clock,
  type Dataset,
  type PrismaClient,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { pageQuery } from "./paging";

export interface OpenAiFileDeps {
  prisma: PrismaClient;
  clock: Clock;
  storage: BlobStorage;
  /** DATASET_MAX_BYTES */
  maxBytes: number;
}

const badRequest = (message: string, param: string) =>
  new AppError("VALIDATION_FAILED", message, { details: { param } });

/**
 * The multipart body: its one `file` part streamed through OpenAI's DPO row mapping into the dataset upload (validated
 * line by line, never held whole), its fields kept. A failed upload stops reading (the connection then closes).
 */
function receive(
  req: Request,
  deps: OpenAiFileDeps,
  userId: string,
): Promise<{ dataset: Dataset | null; fields: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let upload: Promise<Dataset> | null = null;
    let failed = false;
    let bb: busboy.Busboy;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.resume();
      reject(
        err instanceof Error && !(err instanceof AppError) && /multipart|boundary/i.test(err.message)
          ? badRequest(err.message, "file")
          : err,
      );
    };
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 4096, parts: 30 } });
    } catch (err) {
      return reject(badRequest(`not a multipart/form-data body: ${(err as Error).message}`, "file"));
    }
    bb.on("field", (name, value) => void (fields[name] = value));
    bb.on("file", (name, file, info) => {
      const refused = fields.purpose !== undefined && fields.purpose !== "fine-tune";
      if (name !== "file" || upload !== null || refused) return void file.resume();
      const rows = new OpenAiRowsStream();
      file.on("error", (err) => rows.destroy(err));
      file.pipe(rows);
      upload = uploadDataset(
        { prisma: deps.prisma, storage: deps.storage, maxBytes: deps.maxBytes },
        { userId, name: info.filename || "file.jsonl", stream: rows },
      );
      upload.catch(fail);
    });
    bb.on("error", fail);
    bb.on("close", () => {
      if (failed) return;
      if (upload === null) return resolve({ dataset: null, fields });
      upload.then((dataset) => resolve({ dataset, fields }), fail);
    });
    req.pipe(bb);
  });
}

/** POST/GET/DELETE /files: a file is a dataset of the caller's (purpose `fine-tune` only). */
export function openAiFileRoutes(deps: OpenAiFileDeps): Router {
  const router = Router();

  router.post("/files", async (req, res) => {
    const userId = currentUserId(req);
    if (!(req.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data"))
      throw badRequest("send the file as multipart/form-data with the fields file and purpose", "file");
    let received;
    try {
      received = await receive(req, deps, userId);
    } catch (err) {
      res.set("Connection", "close");
      throw err;
    }
    const { dataset, fields } = received;
    if (fields.purpose !== "fine-tune") {
      if (dataset) await deleteOwnDataset(deps, userId, dataset.id);
      throw badRequest(
        fields.purpose === undefined
          ? "purpose is required"
          : `purpose ${fields.purpose.slice(0, 50)} is not supported: only fine-tune`,
        "purpose",
      );
    }
    if (!dataset) throw badRequest("the multipart body has no file part", "file");
    res.status(200).json(fileObject(dataset));
  });

  router.get("/files", async (req, res) => {
    const userId = currentUserId(req);
    const { limit, after } = pageQuery(req.query, { order: true });
    if (req.query.purpose !== undefined && req.query.purpose !== "fine-tune")
      return void res.json({ object: "list", data: [], has_more: false, first_id: null, last_id: null });
    const cursor = after === undefined ? undefined : trainpodId("file", after, "after");
    const page = await listDatasets(deps.prisma, userId, { limit, ...(cursor ? { cursor } : {}) });
    const data = page.items.map(fileObject);
    res.json({
      object: "list",
      data,
      has_more: page.nextCursor !== null,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    });
  });

  router.get("/files/:id", async (req, res) => {
    const d = await getOwnDataset(deps.prisma, currentUserId(req), trainpodId("file", req.params.id));
    res.json(fileObject(d));
  });

  router.delete("/files/:id", async (req, res) => {
    const id = trainpodId("file", req.params.id);
    await deleteOwnDataset(deps, currentUserId(req), id);
    res.json({ id: openAiId("file", id), object: "file", deleted: true });
  });

  return router;
}
