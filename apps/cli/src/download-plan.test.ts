import { parseContentRange, planAnswer, planPart, rangeHeaders, sha256Problem } from "./download-plan";

describe("planPart: what a .part left by an earlier try allows", () => {
  it.each([
    [null, 100, { action: "fresh", discard: false }],
    [0, 100, { action: "fresh", discard: true }],
    [1, 100, { action: "resume", from: 1 }],
    [99, 100, { action: "resume", from: 99 }],
    [100, 100, { action: "verify" }],
    [101, 100, { action: "fresh", discard: true }],
    [null, 0, { action: "fresh", discard: false }],
  ])(".part of %p bytes, file of %p bytes → %j", (part, size, plan) => {
    expect(planPart(part, size)).toEqual(plan);
  });
});

describe("rangeHeaders", () => {
  it("asks from the .part's size with If-Range; nothing from byte 0; no If-Range with a weak or unknown ETag", () => {
    expect(rangeHeaders(4096, '"sha256-ab"')).toEqual({ range: "bytes=4096-", "if-range": '"sha256-ab"' });
    expect(rangeHeaders(0, '"sha256-ab"')).toEqual({});
    expect(rangeHeaders(10, 'W/"ab"')).toEqual({ range: "bytes=10-" });
    expect(rangeHeaders(10, undefined)).toEqual({ range: "bytes=10-" });
  });
});

describe("parseContentRange", () => {
  it("reads start, end and total", () => {
    expect(parseContentRange("bytes 100-199/200")).toEqual({ start: 100, end: 199, total: 200 });
    expect(parseContentRange("bytes 0-9/*")).toEqual({ start: 0, end: 9, total: null });
    expect(parseContentRange("bytes */200")).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });
});

describe("planAnswer: what an answer means for the bytes on disk", () => {
  it("appends a 206 from the asked byte; a 200 replaces the .part (the file changed, or If-Range did not match)", () => {
    expect(planAnswer(206, 100, "bytes 100-199/200", false)).toEqual({ kind: "write", append: true });
    expect(planAnswer(200, 100, null, false)).toEqual({ kind: "write", append: false });
    expect(planAnswer(200, 0, null, true)).toEqual({ kind: "write", append: false });
  });

  it("discards the .part on a 416 or a 206 from another byte", () => {
    expect(planAnswer(206, 100, "bytes 50-199/200", false)).toMatchObject({
      kind: "restart",
      why: expect.stringContaining("bytes 50-199/200"),
    });
    expect(planAnswer(206, 100, null, false)).toMatchObject({ kind: "restart" });
    expect(planAnswer(416, 300, null, false)).toMatchObject({
      kind: "restart",
      why: expect.stringContaining("byte 300"),
    });
  });

  it("tries again after 5xx, 429, 408 and a store's 403 (an expired presigned URL); gives up on 404 and the API's 401/403", () => {
    for (const s of [500, 502, 503, 429, 408])
      expect(planAnswer(s, 0, null, false)).toEqual({ kind: "retry", why: `HTTP ${s}` });
    expect(planAnswer(403, 0, null, true)).toMatchObject({ kind: "retry", why: expect.stringContaining("expired") });
    expect(planAnswer(403, 0, null, false)).toEqual({ kind: "fail", why: "HTTP 403" });
    expect(planAnswer(401, 0, null, false)).toEqual({ kind: "fail", why: "HTTP 401" });
    expect(planAnswer(404, 0, null, false)).toMatchObject({ kind: "fail", why: expect.stringContaining("404") });
  });
});

describe("sha256Problem", () => {
  const A = "a".repeat(64);
  const B = "b".repeat(64);
  const listed = { sha256: A, sizeBytes: 10 };

  it("is null when the bytes match the list and the header (case aside), or the list when there is no header", () => {
    expect(sha256Problem("m.bin", { sha256: A, bytes: 10 }, listed, A.toUpperCase())).toBeNull();
    expect(
      sha256Problem("m.bin", { sha256: A, bytes: 10 }, { sha256: A.toUpperCase(), sizeBytes: 10 }, null),
    ).toBeNull();
  });

  it("names the file and what differs: the list's sha256, the header's, the size", () => {
    expect(sha256Problem("merged/m.bin", { sha256: B, bytes: 10 }, listed, null)).toBe(
      `merged/m.bin: checksum mismatch: sha256 ${B}, the list says ${A}`,
    );
    expect(sha256Problem("m.bin", { sha256: A, bytes: 10 }, listed, B)).toBe(
      `m.bin: checksum mismatch: sha256 ${A}, X-Content-SHA256 says ${B}`,
    );
    expect(sha256Problem("m.bin", { sha256: A, bytes: 12 }, listed, A)).toBe(
      "m.bin: checksum mismatch: 12 bytes instead of 10",
    );
  });
});
