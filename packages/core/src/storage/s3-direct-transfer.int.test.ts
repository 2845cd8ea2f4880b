import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { useTestBucket } from "../../../../test/support/s3-server";
import { errorCode, readAll } from "./blob-storage.contract";
import type { PresignedRequest } from "./blob-storage";
import { S3BlobStorage } from "./s3-blob-storage";

/** S3BlobStorage's DirectTransfer against a real S3-compatible server: what clients do with the signed URLs. */
const MiB = 1024 * 1024;
const s3 = useTestBucket();
const storage = new S3BlobStorage({ client: s3.client, bucket: s3.bucket, prefix: "artifacts/" });
const direct = storage.direct;
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(
  req: PresignedRequest,
  body?: Buffer,
  extra: Record<string, string> = {},
): Promise<{ status: number; text: string; etag: string | null }> {
  const res = await fetch(req.url, { method: req.method, headers: { ...req.headers, ...extra }, body });
  return { status: res.status, text: await res.text(), etag: res.headers.get("etag") };
}

async function unfinishedUploads(key: string): Promise<number> {
  const r = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `artifacts/${key}` }));
  return (r.Uploads ?? []).length;
}

describe("S3BlobStorage.direct: presigned GET", () => {
  it("works until it expires, then the server refuses it (403, expired)", async () => {
    await storage.put("d1/config.json", Readable.from([Buffer.from('{"r":8}')]));
    // signatures are dated in whole seconds: sign early in one, so the URL is good for most of a second
    await sleep(1050 - (Date.now() % 1000));
    const before = Date.now();
    const req = await direct.presignGet("d1/config.json", { expiresInSeconds: 1 });
    expect([req.method, req.headers]).toEqual(["GET", {}]);
    expect(req.expiresAt.getTime()).toBeGreaterThan(before - 1000);
    expect(req.expiresAt.getTime()).toBeLessThanOrEqual(before + 1000);
    const fresh = await send(req);
    expect([fresh.status, fresh.text]).toEqual([200, '{"r":8}']);

    await sleep(req.expiresAt.getTime() + 300 - Date.now()); // about 1.2 s
    const late = await send(req);
    expect(late.status).toBe(403);
    expect(late.text).toContain("<Code>AccessDenied</Code>");
    expect(late.text).toContain("Request has expired");
  });

  it("names the file for the browser when asked (Content-Disposition: attachment)", async () => {
    await storage.put("d1/adapter_model.safetensors", Readable.from([Buffer.from("w")]));
    const req = await direct.presignGet("d1/adapter_model.safetensors", {
      expiresInSeconds: 60,
      filename: "adapter_model.safetensors",
    });
    const res = await fetch(req.url);
    expect([res.status, res.headers.get("content-disposition")]).toEqual([
      200,
      'attachment; filename="adapter_model.safetensors"',
    ]);
    await res.arrayBuffer();
  });

  it("a URL signed with another secret is refused (403 SignatureDoesNotMatch)", async () => {
    await storage.put("d1/secret.bin", Readable.from([Buffer.from("s")]));
    const forger = new S3BlobStorage({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: "not-the-secret" },
      bucket: s3.bucket,
      prefix: "artifacts/",
    });
    const res = await send(await forger.presignGet("d1/secret.bin", { expiresInSeconds: 60 }));
    expect(res.status).toBe(403);
    expect(res.text).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("an interrupted download resumes with Range: bytes=<received>- and gives the exact bytes", async () => {
    const file = randomBytes(3 * MiB + 17);
    await storage.put("d1/merged.bin", Readable.from([file]));
    const req = await direct.presignGet("d1/merged.bin", { expiresInSeconds: 60 });

    const aborter = new AbortController();
    const first = await fetch(req.url, { signal: aborter.signal });
    expect(first.status).toBe(200);
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    const received: Buffer[] = [];
    let bytes = 0;
    while (bytes < MiB) {
      const { value, done } = await reader.read();
      if (done) break;
      received.push(Buffer.from(value));
      bytes += value.length;
    }
    aborter.abort(); // the connection drops mid-body
    await reader.cancel().catch(() => undefined);
    expect(bytes).toBeGreaterThanOrEqual(MiB);
    expect(bytes).toBeLessThan(file.length);

    const rest = await fetch(req.url, { headers: { range: `bytes=${bytes}-` } });
    expect([rest.status, rest.headers.get("content-range")]).toEqual([
      206,
      `bytes ${bytes}-${file.length - 1}/${file.length}`,
    ]);
    const whole = Buffer.concat([...received, Buffer.from(await rest.arrayBuffer())]);
    expect([whole.length, sha256(whole)]).toEqual([file.length, sha256(file)]);
  });
});

describe("S3BlobStorage.direct: presigned PUT", () => {
  const body = Buffer.from('{"base_model":"tiny"}');

  it("stores bytes whose sha256 is the signed one; the client sends the signed headers", async () => {
    const req = await direct.presignPut("d2/adapter_config.json", {
      expiresInSeconds: 60,
      sizeBytes: body.length,
      sha256: sha256(body),
    });
    expect(req.method).toBe("PUT");
    expect(req.headers).toEqual({
      "content-length": String(body.length),
      "x-amz-checksum-sha256": Buffer.from(sha256(body), "hex").toString("base64"),
    });
    expect((await send(req, body)).status).toBe(200);
    const back = await readAll((await storage.get("d2/adapter_config.json")).stream);
    expect(sha256(back)).toBe(sha256(body));
  });

  it("refuses other bytes of the same size (400 BadDigest) and keeps nothing", async () => {
    const req = await direct.presignPut("d2/tampered.json", {
      expiresInSeconds: 60,
      sizeBytes: body.length,
      sha256: sha256(body),
    });
    const other = Buffer.from(body.toString().replace("tiny", "TINY"));
    const res = await send(req, other);
    expect(res.status).toBe(400);
    expect(res.text).toContain("<Code>BadDigest</Code>");
    expect(await storage.stat("d2/tampered.json")).toBeNull();
  });

  it("refuses a body of another size (403: Content-Length is signed) and keeps nothing", async () => {
    const req = await direct.presignPut("d2/longer.json", {
      expiresInSeconds: 60,
      sizeBytes: body.length,
      sha256: sha256(body),
    });
    const longer = Buffer.concat([body, Buffer.from(" ")]);
    const res = await send(req, longer, { "content-length": String(longer.length) });
    expect(res.status).toBe(403);
    expect(res.text).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(await storage.stat("d2/longer.json")).toBeNull();
  });

  it("refuses what it cannot sign (VALIDATION_FAILED)", async () => {
    const ok = { expiresInSeconds: 60, sizeBytes: 1, sha256: sha256(Buffer.from("x")) };
    expect(await errorCode(direct.presignPut("d2/x", { ...ok, sha256: "abc" }))).toBe("VALIDATION_FAILED");
    expect(await errorCode(direct.presignPut("d2/x", { ...ok, sizeBytes: -1 }))).toBe("VALIDATION_FAILED");
    expect(await errorCode(direct.presignPut("d2/x", { ...ok, expiresInSeconds: 0 }))).toBe("VALIDATION_FAILED");
    expect(await errorCode(direct.presignPut("../x", ok))).toBe("VALIDATION_FAILED");
    expect(await errorCode(direct.presignGet("d2/x", { expiresInSeconds: 8 * 24 * 3600 }))).toBe("VALIDATION_FAILED");
  });
});

describe("S3BlobStorage.direct: multipart upload through presigned part URLs", () => {
  const partBytes = 5 * MiB;
  const file = randomBytes(2 * partBytes + 1234);
  const parts = [file.subarray(0, partBytes), file.subarray(partBytes, 2 * partBytes), file.subarray(2 * partBytes)];
  const presign = (key: string, uploadId: string, n: number, data: Buffer, sha = sha256(data)) =>
    direct.presignPart(key, uploadId, { partNumber: n, sizeBytes: data.length, sha256: sha }, { expiresInSeconds: 60 });

  it("two 5 MiB parts and a tail, each checked by its sha256, make the file; it appears only once complete", async () => {
    const key = "d3/merged/model.safetensors";
    const uploadId = await direct.createMultipartUpload(key);
    const uploaded = [];
    for (const [i, data] of parts.entries()) {
      const req = await presign(key, uploadId, i + 1, data);
      expect(req.headers["x-amz-checksum-sha256"]).toBe(Buffer.from(sha256(data), "hex").toString("base64"));
      const res = await send(req, data);
      expect(res.status).toBe(200);
      expect(res.etag).toMatch(/^"[0-9a-f-]+"$/);
      uploaded.push({ partNumber: i + 1, etag: res.etag ?? "", sha256: sha256(data) });
    }
    expect(await storage.stat(key)).toBeNull();
    await direct.completeMultipartUpload(key, uploadId, uploaded.reverse()); // any order: sorted by part number
    expect((await storage.stat(key))?.sizeBytes).toBe(file.length);
    const back = await readAll((await storage.get(key)).stream);
    expect([back.length, sha256(back)]).toEqual([file.length, sha256(file)]);
    expect(await unfinishedUploads(key)).toBe(0);
  }, 60_000);

  it("refuses a part whose bytes do not match its sha256 (400 BadDigest); abort drops the upload", async () => {
    const key = "d3/broken.bin";
    const uploadId = await direct.createMultipartUpload(key);
    const req = await presign(key, uploadId, 1, parts[0] as Buffer, sha256(parts[1] as Buffer));
    const res = await send(req, parts[0]);
    expect(res.status).toBe(400);
    expect(res.text).toContain("<Code>BadDigest</Code>");
    expect(await unfinishedUploads(key)).toBe(1);
    await direct.abortMultipartUpload(key, uploadId);
    await direct.abortMultipartUpload(key, uploadId); // an unknown upload is not an error
    expect(await unfinishedUploads(key)).toBe(0);
    expect(await storage.stat(key)).toBeNull();
  }, 60_000);

  it("completing with a part the store does not have is UNPROCESSABLE; an unknown upload is NOT_FOUND", async () => {
    const key = "d3/wrong-etag.bin";
    const uploadId = await direct.createMultipartUpload(key);
    const tail = parts[2] as Buffer;
    const res = await send(await presign(key, uploadId, 1, tail), tail);
    expect(res.status).toBe(200);
    const wrong = [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"', sha256: sha256(tail) }];
    expect(await errorCode(direct.completeMultipartUpload(key, uploadId, wrong))).toBe("UNPROCESSABLE");
    await direct.abortMultipartUpload(key, uploadId);
    const right = [{ partNumber: 1, etag: res.etag ?? "", sha256: sha256(tail) }];
    expect(await errorCode(direct.completeMultipartUpload(key, uploadId, right))).toBe("NOT_FOUND");
    expect(await storage.stat(key)).toBeNull();
  }, 60_000);
});
