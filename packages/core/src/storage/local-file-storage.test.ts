import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describeBlobStorageContract, errorCode } from "./blob-storage.contract";
import { LocalFileStorage } from "./local-file-storage";

/** every file under `dir` (temp files included), relative, `/`-separated */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

describeBlobStorageContract("LocalFileStorage", () => {
  const base = mkdtempSync(path.join(os.tmpdir(), "tp-storage-contract-"));
  return {
    storage: new LocalFileStorage(base),
    leftovers: async () => filesUnder(base),
    close: async () => rmSync(base, { recursive: true, force: true }),
  };
});

let base: string;
let root: string;
let outside: string;
let storage: LocalFileStorage;

beforeEach(() => {
  base = mkdtempSync(path.join(os.tmpdir(), "tp-storage-"));
  root = path.join(base, "root");
  outside = path.join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(path.join(outside, "secret.txt"), "top secret");
  storage = new LocalFileStorage(root);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe("LocalFileStorage", () => {
  it("a source that has already failed leaves no temp file once put rejects", async () => {
    for (let i = 0; i < 20; i++) {
      const failed = new Readable({ read() {} });
      failed.on("error", () => undefined);
      failed.destroy(new Error("bad line"));
      await expect(storage.put(`datasets/u1/early-${i}.jsonl`, failed)).rejects.toThrow("bad line");
      expect(readdirSync(path.join(root, "datasets/u1"))).toEqual([]);
    }
  });

  it("rejects symlinks that point outside the root, for reads and writes", async () => {
    symlinkSync(path.join(outside, "secret.txt"), path.join(root, "link.txt"));
    symlinkSync(outside, path.join(root, "dirlink"));
    expect(await errorCode(storage.get("link.txt"))).toBe("VALIDATION_FAILED");
    expect(await errorCode(storage.get("dirlink/secret.txt"))).toBe("VALIDATION_FAILED");
    expect(await errorCode(storage.delete("dirlink/secret.txt"))).toBe("VALIDATION_FAILED");
    expect(await errorCode(storage.put("dirlink/new.txt", Readable.from([Buffer.from("x")])))).toBe(
      "VALIDATION_FAILED",
    );
    expect(await errorCode(storage.put("dirlink/deeper/new.txt", Readable.from([Buffer.from("x")])))).toBe(
      "VALIDATION_FAILED",
    );
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
  });

  it("follows a symlink that stays inside the root", async () => {
    await storage.put("datasets/a.jsonl", Readable.from([Buffer.from("x")]));
    symlinkSync(path.join(root, "datasets/a.jsonl"), path.join(root, "alias.jsonl"));
    const got = await storage.get("alias.jsonl");
    got.stream.destroy(); // closes the file handle (an unread stream would leave it to the garbage collector)
    expect(got.sizeBytes).toBe(1);
  });
});
