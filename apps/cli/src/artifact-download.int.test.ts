import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { ApiClient } from "./api-client";
import { downloadArtifact, type ArtifactFile } from "./artifact-download";
import { CliError } from "./exit-codes";

// Real HTTP on local ports: a stand-in for the API and one for the object store it redirects to
// (S3 mode cannot run against the simulator system, which stores artifacts on the API host).

const ID = "6f1c3a52-3c0f-4a8e-9a51-0d1bb1f1a0aa";
const KEY = "tp_live_secret_key";
const BYTES = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7 + 3) & 0xff));
const SHA = createHash("sha256").update(BYTES).digest("hex");
const FILE: ArtifactFile = { path: "merged/model.bin", sizeBytes: BYTES.length, sha256: SHA };

interface Seen {
  url: string;
  authorization?: string;
  range?: string;
  ifRange?: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

async function server(handler: Handler): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    seen.push({
      url: req.url ?? "",
      authorization: req.headers.authorization,
      range: req.headers.range,
      ifRange: req.headers["if-range"] as string | undefined,
    });
    handler(req, res, seen.length);
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => (s.closeAllConnections(), s.close(() => r()))),
  };
}

/**
 * Serves BYTES honouring `Range: bytes=N-`; with `breakAfter`, sends that many bytes and drops the
 * connection once the client has them on disk (`part` that long: what it had not read yet would be lost).
 */
function serveBytes(
  res: http.ServerResponse,
  range: string | undefined,
  headers: Record<string, string>,
  breakAfter?: { bytes: number; part: string },
): void {
  const from = range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
  const body = BYTES.subarray(from);
  res.writeHead(range ? 206 : 200, {
    ...headers,
    "content-length": String(body.length),
    ...(range ? { "content-range": `bytes ${from}-${BYTES.length - 1}/${BYTES.length}` } : {}),
  });
  if (breakAfter === undefined) return void res.end(body);
  res.write(body.subarray(0, breakAfter.bytes));
  const written = () => existsSync(breakAfter.part) && statSync(breakAfter.part).size === from + breakAfter.bytes;
  const poll = setInterval(() => {
    if (!written()) return;
    clearInterval(poll);
    res.socket?.destroy();
  }, 5);
}

let dir: string;
let closers: Array<() => Promise<void>>;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "cli-download-"));
  closers = [];
});
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(handler: Handler) {
  const s = await server(handler);
  closers.push(s.close);
  return s;
}
const target = () => path.join(dir, "model.bin");
const download = (apiUrl: string, retries = 3) =>
  downloadArtifact(new ApiClient({ apiUrl, apiKey: KEY }), ID, FILE, target(), { retries, backoffMs: 1 });

describe("downloadArtifact", () => {
  it("follows the API's 302 to the store itself: the store gets Range (and If-Range once it gave an ETag), never the API key; a broken transfer resumes", async () => {
    const store = await start((req, res, n) =>
      serveBytes(
        res,
        req.headers.range,
        { etag: '"s3-etag-1"' },
        n === 1 ? { bytes: 3000, part: `${target()}.part` } : undefined,
      ),
    );
    const api = await start((_req, res) =>
      res
        .writeHead(302, {
          location: `${store.url}/bucket/artifacts/${ID}/merged/model.bin?X-Amz-Signature=sig`,
          etag: `"sha256-${SHA}"`,
          "x-content-sha256": SHA,
        })
        .end(),
    );
    writeFileSync(`${target()}.part`, BYTES.subarray(0, 1000));

    const d = await download(api.url);

    expect(d).toEqual({ path: FILE.path, sizeBytes: BYTES.length, sha256: SHA, outcome: "resumed", resumedFrom: 1000 });
    expect(readFileSync(target()).equals(BYTES)).toBe(true);
    expect(existsSync(`${target()}.part`)).toBe(false);
    expect(api.seen.map((s) => [s.url, s.authorization, s.range])).toEqual([
      [`/v1/deployments/${ID}/artifacts/merged/model.bin`, `Bearer ${KEY}`, "bytes=1000-"],
      [`/v1/deployments/${ID}/artifacts/merged/model.bin`, `Bearer ${KEY}`, "bytes=4000-"],
    ]);
    expect(api.seen[0]?.ifRange).toBe(`"sha256-${SHA}"`);
    // the store: the presigned URL as given, no key, the range; its own ETag as If-Range after its first answer
    expect(store.seen).toEqual([
      {
        url: `/bucket/artifacts/${ID}/merged/model.bin?X-Amz-Signature=sig`,
        authorization: undefined,
        range: "bytes=1000-",
        ifRange: undefined,
      },
      {
        url: `/bucket/artifacts/${ID}/merged/model.bin?X-Amz-Signature=sig`,
        authorization: undefined,
        range: "bytes=4000-",
        ifRange: '"s3-etag-1"',
      },
    ]);
  });

  it("starts over when the server answers a resume with 200 (If-Range did not match, or no range support)", async () => {
    const api = await start((_req, res) =>
      serveBytes(res, undefined, { etag: `"sha256-${SHA}"`, "x-content-sha256": SHA }),
    );
    writeFileSync(`${target()}.part`, Buffer.from("stale bytes of an older file"));

    const d = await download(api.url);

    expect(api.seen.map((s) => s.range)).toEqual(["bytes=28-"]);
    expect(d.outcome).toBe("downloaded");
    expect(readFileSync(target()).equals(BYTES)).toBe(true);
  });

  it("a sha256 mismatch deletes the .part, leaves no file and names the file", async () => {
    const wrong = Buffer.from(BYTES).fill(0, 5000, 5001);
    const api = await start((_req, res) =>
      res.writeHead(200, { "content-length": String(wrong.length), "x-content-sha256": SHA }).end(wrong),
    );

    const err = await download(api.url).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toMatch(
      new RegExp(`^merged/model\\.bin: checksum mismatch: sha256 [0-9a-f]{64}, the list says ${SHA}`),
    );
    expect(existsSync(`${target()}.part`)).toBe(false);
    expect(existsSync(target())).toBe(false);
  });

  it("a mismatch with the answer's X-Content-SHA256 fails too, even when the bytes match the list", async () => {
    const other = "c".repeat(64);
    const api = await start((_req, res) => serveBytes(res, undefined, { "x-content-sha256": other }));
    const err = await download(api.url).catch((e: unknown) => e);
    expect((err as CliError).message).toContain(`X-Content-SHA256 says ${other}`);
    expect(existsSync(target())).toBe(false);
  });

  it("keeps a file already present with the right sha256 without asking anything, and replaces one with the wrong bytes", async () => {
    const api = await start((_req, res) => serveBytes(res, undefined, { "x-content-sha256": SHA }));
    writeFileSync(target(), BYTES);
    expect((await download(api.url)).outcome).toBe("present");
    expect(api.seen).toHaveLength(0);

    writeFileSync(target(), Buffer.alloc(BYTES.length));
    expect((await download(api.url)).outcome).toBe("downloaded");
    expect(readFileSync(target()).equals(BYTES)).toBe(true);
    expect(api.seen).toHaveLength(1);
  });

  it("gives up after its retries on a server that keeps failing, naming the file; a 404 is not retried", async () => {
    const failing = await start((_req, res) =>
      res
        .writeHead(503, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "INTERNAL", message: "down" } })),
    );
    const err = await download(failing.url, 2).catch((e: unknown) => e);
    expect((err as CliError).message).toBe("merged/model.bin: download failed after 3 tries: HTTP 503");
    expect(failing.seen).toHaveLength(3);

    const gone = await start((_req, res) =>
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { code: "NOT_FOUND", message: "artifact not found" } })),
    );
    const notFound = await download(gone.url).catch((e: unknown) => e);
    expect((notFound as CliError).message).toMatch(/^merged\/model\.bin: NOT_FOUND \(HTTP 404\): artifact not found/);
    expect(gone.seen).toHaveLength(1);
  });
});
