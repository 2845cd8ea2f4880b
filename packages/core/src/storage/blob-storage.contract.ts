import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { AppError } from "../errors";
import type { BlobStorage } from "./blob-storage";

/**
 * What every BlobStorage does, whatever holds the bytes: one suite that each implementation's test file runs
 * (local-file-storage.test.ts, s3-blob-storage.int.test.ts).
 */
export interface ContractStore {
  storage: BlobStorage;
  /**
   * Everything the store holds, by key: objects, and whatever a put leaves on the way (temp files, unfinished
   * multipart uploads, named as the implementation likes), so "nothing kept" can be checked.
   */
  leftovers(): Promise<string[]>;
  close?(): Promise<void>;
}

const MiB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** the AppError code a promise rejects with ("resolved" or "other: ..." otherwise) */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (err) {
    return err instanceof AppError ? err.code : `other: ${String(err)}`;
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * A source that sends `bytes` bytes, then fails like a client that went away. It fails a moment later, not at
 * once: a stream destroyed right away also drops the bytes it had buffered, so nothing would reach the store.
 */
function failingAfter(bytes: number): Readable {
  return Readable.from(
    (async function* () {
      yield randomBytes(bytes);
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error("client went away");
    })(),
  );
}

export const UNSAFE_KEYS: Array<[string, string]> = [
  ["..", "../outside/secret.txt"],
  ["nested ..", "datasets/../../outside/secret.txt"],
  ["absolute", path.join(os.tmpdir(), "outside", "secret.txt")],
  ["absolute root", "/etc/passwd"],
  ["encoded", "%2e%2e%2foutside%2fsecret.txt"],
  ["encoded segment", "datasets/%2e%2e/x"],
  ["backslash", "..\\outside\\secret.txt"],
  ["dot segment", "./datasets/x"],
  ["empty segment", "datasets//x"],
  ["NUL", "datasets/x\u0000.jsonl"],
  ["empty", ""],
];

export function describeBlobStorageContract(name: string, open: () => Promise<ContractStore> | ContractStore): void {
  describe(`${name}: the BlobStorage contract`, () => {
    let store: ContractStore;
    let storage: BlobStorage;
    beforeEach(async () => {
      store = await open();
      storage = store.storage;
    });
    afterEach(async () => store?.close?.());

    it("puts (size + sha256), gets, stats and deletes; a missing object is null, NOT_FOUND, or fine to delete", async () => {
      const body = "hello\nworld\n";
      const put = await storage.put("datasets/u1/a.jsonl", Readable.from([Buffer.from(body)]));
      expect(put).toEqual({ sizeBytes: 12, sha256: sha256(Buffer.from(body)) });
      expect(await store.leftovers()).toEqual(["datasets/u1/a.jsonl"]);
      const got = await storage.get("datasets/u1/a.jsonl");
      expect(got.sizeBytes).toBe(12);
      expect((await readAll(got.stream)).toString()).toBe(body);
      const st = await storage.stat("datasets/u1/a.jsonl");
      expect(st?.sizeBytes).toBe(12);
      expect(Math.abs((st?.modifiedAt.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);

      await storage.delete("datasets/u1/a.jsonl");
      expect(await storage.stat("datasets/u1/a.jsonl")).toBeNull();
      await storage.delete("datasets/u1/a.jsonl");
      expect(await errorCode(storage.get("datasets/u1/a.jsonl"))).toBe("NOT_FOUND");
      expect(await store.leftovers()).toEqual([]);
    });

    it("a put replaces the object; an async iterable is a body too", async () => {
      await storage.put("a.txt", Readable.from([Buffer.from("first version")]));
      const again = await storage.put(
        "a.txt",
        (async function* () {
          yield Buffer.from("second");
        })(),
      );
      expect(again.sizeBytes).toBe(6);
      expect((await readAll((await storage.get("a.txt")).stream)).toString()).toBe("second");
    });

    it("gets from `start`, and from `start` to `end` (inclusive, an end past the object stops at its last byte)", async () => {
      await storage.put("r.txt", Readable.from([Buffer.from("0123456789")]));
      const read = async (start?: number, end?: number): Promise<[number, string]> => {
        const got = await storage.get("r.txt", { start, end });
        return [got.sizeBytes, (await readAll(got.stream)).toString()];
      };
      expect(await read(6)).toEqual([10, "6789"]);
      expect(await read(2, 4)).toEqual([10, "234"]);
      expect(await read(0, 0)).toEqual([10, "0"]);
      expect(await read(7, 500)).toEqual([10, "789"]);
      expect(await read(10)).toEqual([10, ""]); // from the very end: nothing (a finished resumed download)
      expect(await errorCode(storage.get("r.txt", { start: 11 }))).toBe("VALIDATION_FAILED");
      expect(await errorCode(storage.get("r.txt", { start: 5, end: 4 }))).toBe("VALIDATION_FAILED");
      expect(await errorCode(storage.get("r.txt", { start: -1 }))).toBe("VALIDATION_FAILED");
      expect(await errorCode(storage.get("missing.txt", { start: 2, end: 3 }))).toBe("NOT_FOUND");
    });

    it("a big body (over S3's multipart threshold) keeps every byte: size and sha256 of what is read back", async () => {
      const chunks = [randomBytes(4 * MiB), randomBytes(4 * MiB), randomBytes(3 * MiB + 123)];
      const whole = Buffer.concat(chunks);
      const put = await storage.put("big/model.safetensors", Readable.from(chunks), { maxBytes: whole.length });
      expect(put).toEqual({ sizeBytes: whole.length, sha256: sha256(whole) });
      const back = await readAll((await storage.get("big/model.safetensors")).stream);
      expect([back.length, sha256(back)]).toEqual([whole.length, sha256(whole)]);
      expect(await store.leftovers()).toEqual(["big/model.safetensors"]);
    }, 60_000);

    it.each([
      ["small (one request)", 600, 1000],
      ["big (past a part)", 4 * MiB, 10 * MiB],
    ])(
      "an oversized put, %s, is PAYLOAD_TOO_LARGE and keeps nothing",
      async (_what, chunkBytes, maxBytes) => {
        const chunks = [randomBytes(chunkBytes), randomBytes(chunkBytes), randomBytes(chunkBytes)];
        const put = storage.put("datasets/u1/big.jsonl", Readable.from(chunks), { maxBytes });
        expect(await errorCode(put)).toBe("PAYLOAD_TOO_LARGE");
        expect(await store.leftovers()).toEqual([]);
      },
      60_000,
    );

    it.each([
      ["after a few bytes", 100],
      ["past a part", 6 * MiB],
    ])(
      "a source that fails %s keeps nothing, and the object there stays as it was",
      async (_what, bytes) => {
        await storage.put("datasets/u1/f.jsonl", Readable.from([Buffer.from("the old one")]));
        await expect(storage.put("datasets/u1/f.jsonl", failingAfter(bytes))).rejects.toThrow("client went away");
        expect(await store.leftovers()).toEqual(["datasets/u1/f.jsonl"]);
        expect((await readAll((await storage.get("datasets/u1/f.jsonl")).stream)).toString()).toBe("the old one");
      },
      60_000,
    );

    it.each(UNSAFE_KEYS)("refuses a %s key on every operation (VALIDATION_FAILED)", async (_what, key) => {
      expect(await errorCode(storage.get(key))).toBe("VALIDATION_FAILED");
      expect(await errorCode(storage.stat(key))).toBe("VALIDATION_FAILED");
      expect(await errorCode(storage.delete(key))).toBe("VALIDATION_FAILED");
      expect(await errorCode(storage.put(key, Readable.from([Buffer.from("x")])))).toBe("VALIDATION_FAILED");
      expect(await store.leftovers()).toEqual([]);
    });
  });
}
