import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { createHash } from "node:crypto";
import { AppError } from "../errors";
import { LocalFileStorage } from "./local-file-storage";

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

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (err) {
    return err instanceof AppError ? err.code : `other:${String(err)}`;
  }
}

describe("LocalFileStorage", () => {
  it("puts (size + sha256), gets (from an offset), stats and deletes", async () => {
    const body = "hello\nworld\n";
    const put = await storage.put("datasets/u1/a.jsonl", Readable.from([Buffer.from(body)]));
    expect(put).toEqual({ sizeBytes: 12, sha256: createHash("sha256").update(body).digest("hex") });
    const got = await storage.get("datasets/u1/a.jsonl", { start: 6 });
    expect(got.sizeBytes).toBe(12);
    const chunks: Buffer[] = [];
    for await (const c of got.stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("world\n");
    expect((await storage.stat("datasets/u1/a.jsonl"))?.sizeBytes).toBe(12);
    await storage.delete("datasets/u1/a.jsonl");
    expect(await storage.stat("datasets/u1/a.jsonl")).toBeNull();
    await storage.delete("datasets/u1/a.jsonl");
    expect(await code(storage.get("datasets/u1/a.jsonl"))).toBe("NOT_FOUND");
  });

  it("an oversized put aborts and leaves no file, temp or final", async () => {
    const big = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    expect(await code(storage.put("datasets/u1/big.jsonl", big, { maxBytes: 1000 }))).toBe("PAYLOAD_TOO_LARGE");
    expect(readdirSync(path.join(root, "datasets/u1"))).toEqual([]);
  });

  it("a failing source leaves nothing behind", async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(100));
        this.destroy(new Error("client went away"));
      },
    });
    await expect(storage.put("datasets/u1/f.jsonl", failing)).rejects.toThrow("client went away");
    expect(readdirSync(path.join(root, "datasets/u1"))).toEqual([]);
  });

  it("a source that has already failed leaves no temp file once put rejects", async () => {
    for (let i = 0; i < 20; i++) {
      const failed = new Readable({ read() {} });
      failed.on("error", () => undefined);
      failed.destroy(new Error("bad line"));
      await expect(storage.put(`datasets/u1/early-${i}.jsonl`, failed)).rejects.toThrow("bad line");
      expect(readdirSync(path.join(root, "datasets/u1"))).toEqual([]);
    }
  });

  it.each([
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
  ])("rejects a %s key on every operation", async (_what, key) => {
    expect(await code(storage.get(key))).toBe("VALIDATION_FAILED");
    expect(await code(storage.stat(key))).toBe("VALIDATION_FAILED");
    expect(await code(storage.delete(key))).toBe("VALIDATION_FAILED");
    expect(await code(storage.put(key, Readable.from([Buffer.from("x")])))).toBe("VALIDATION_FAILED");
  });

  it("rejects symlinks that point outside the root, for reads and writes", async () => {
    symlinkSync(path.join(outside, "secret.txt"), path.join(root, "link.txt"));
    symlinkSync(outside, path.join(root, "dirlink"));
    expect(await code(storage.get("link.txt"))).toBe("VALIDATION_FAILED");
    expect(await code(storage.get("dirlink/secret.txt"))).toBe("VALIDATION_FAILED");
    expect(await code(storage.delete("dirlink/secret.txt"))).toBe("VALIDATION_FAILED");
    expect(await code(storage.put("dirlink/new.txt", Readable.from([Buffer.from("x")])))).toBe("VALIDATION_FAILED");
    expect(await code(storage.put("dirlink/deeper/new.txt", Readable.from([Buffer.from("x")])))).toBe("VALIDATION_FAILED");
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
