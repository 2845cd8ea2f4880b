import type { Readable } from "node:stream";
import type { BlobStorage } from "../storage";

/**
 * A stored dataset's non-empty lines, numbered from 1 as the file numbers them (the trainer's read_rows: UTF-8, a
 * BOM dropped, blank lines skipped but counted), streamed: only the current line is held.
 */
export async function* jsonlLines(
  stream: Readable | AsyncIterable<Uint8Array>,
): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: false });
  let pending = "";
  let line = 0;
  const emit = function* (text: string) {
    line++;
    if (text.trim() !== "") yield { line, text };
  };
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = pending.indexOf("\n"); nl !== -1; nl = pending.indexOf("\n", from)) {
      yield* emit(pending.slice(from, nl));
      from = nl + 1;
    }
    pending = pending.slice(from);
  }
  pending += decoder.decode();
  if (pending !== "") yield* emit(pending);
}

/** The lines of the dataset stored under `key`. */
export async function* storedDatasetLines(
  storage: BlobStorage,
  key: string,
): AsyncGenerator<{ line: number; text: string }> {
  const blob = await storage.get(key);
  try {
    yield* jsonlLines(blob.stream);
  } finally {
    blob.stream.destroy();
  }
}
