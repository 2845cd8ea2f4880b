import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { AppError } from "../errors";
import type { Dataset, PrismaClient } from "../db";
import type { BlobStorage } from "../storage";
import { JsonlValidatorStream } from "./jsonl-validator";

export interface UploadDeps {
  prisma: PrismaClient;
  storage: BlobStorage;
  /** DATASET_MAX_BYTES */
  maxBytes: number;
}

export interface UploadInput {
  userId: string;
  name: string;
  /** the raw JSONL bytes (e.g. the HTTP request) */
  stream: Readable;
}

export function checkDatasetName(name: unknown): string {
  const trimmed = typeof name === "string" ? name.trim() : "";
  const printable = [...trimmed].every((ch) => (ch.codePointAt(0) ?? 0) >= 0x20 && ch !== "\u007f");
  if (trimmed.length === 0 || trimmed.length > 200 || !printable)
    throw new AppError("VALIDATION_FAILED", "name must be 1-200 printable characters");
  return trimmed;
}

/**
 * Streams a JSONL upload into storage in one pass: validated line by line, measured and hashed
 * on the way, capped at maxBytes. On any failure nothing stays in storage and no row is written.
 */
export async function uploadDataset(deps: UploadDeps, input: UploadInput): Promise<Dataset> {
  const name = checkDatasetName(input.name);
  const storageKey = `datasets/${input.userId}/${randomUUID()}.jsonl`;
  const validator = new JsonlValidatorStream();
  let interrupted = false;
  const onSourceError = (err: Error): void => {
    interrupted = true;
    validator.destroy(err);
  };
  // the validator may fail before storage starts reading it; put() still sees the error
  validator.on("error", () => undefined);
  input.stream.once("error", onSourceError);
  input.stream.pipe(validator);
  let stored;
  try {
    stored = await deps.storage.put(storageKey, validator, { maxBytes: deps.maxBytes });
  } catch (err) {
    input.stream.unpipe(validator);
    if (err instanceof AppError || !interrupted) throw err;
    throw new AppError("VALIDATION_FAILED", "the upload was interrupted", { cause: err });
  } finally {
    input.stream.off("error", onSourceError);
  }
  const summary = validator.summary;
  if (!summary) {
    await deps.storage.delete(storageKey);
    throw new AppError("INTERNAL", "validator did not finish");
  }
  try {
    return await deps.prisma.dataset.create({
      data: {
        userId: input.userId,
        name,
        storageKey,
        sizeBytes: BigInt(stored.sizeBytes),
        sha256: stored.sha256,
        format: summary.format,
        rowCount: summary.rowCount,
      },
    });
  } catch (err) {
    await deps.storage.delete(storageKey);
    throw err;
  }
}
