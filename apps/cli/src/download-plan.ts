/**
 * The decisions of a resumable download, apart from any I/O: what to do with a `.part` left by an
 * earlier try, what an answer means for the bytes on disk, and whether the result is the file.
 */

/** What a `.part` of `partSize` bytes (null: none) allows for a file of `expectedSize` bytes. */
export type PartPlan =
  /** download from byte 0; `discard`: a `.part` exists that cannot be a prefix of the file */
  | { action: "fresh"; discard: boolean }
  /** ask for `bytes=<from>-` and append */
  | { action: "resume"; from: number }
  /** the `.part` has every byte already: check its sha256 without asking anything */
  | { action: "verify" };

export function planPart(partSize: number | null, expectedSize: number): PartPlan {
  if (partSize === null) return { action: "fresh", discard: false };
  if (partSize === 0) return { action: "fresh", discard: true };
  if (partSize < expectedSize) return { action: "resume", from: partSize };
  if (partSize === expectedSize) return { action: "verify" };
  return { action: "fresh", discard: true };
}

/** The request headers that resume at byte `from` (none from 0); If-Range only with a strong ETag. */
export function rangeHeaders(from: number, etag: string | undefined): Record<string, string> {
  if (from <= 0) return {};
  const headers: Record<string, string> = { range: `bytes=${from}-` };
  if (etag && !etag.startsWith("W/")) headers["if-range"] = etag;
  return headers;
}

/** `bytes 100-199/200` → {start: 100, end: 199, total: 200} (total null for `*`); null if malformed. */
export function parseContentRange(value: string | null): { start: number; end: number; total: number | null } | null {
  const m = value ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? null : Number(m[3]) };
}

export type AnswerPlan =
  /** write the body: appended to the `.part` (206 from the right byte) or in place of it (200) */
  | { kind: "write"; append: boolean }
  /** the `.part` is unusable (416, or a 206 from another byte): delete it, then try again from 0 */
  | { kind: "restart"; why: string }
  /** a passing trouble: try again, resuming */
  | { kind: "retry"; why: string }
  /** give up on this file */
  | { kind: "fail"; why: string };

/**
 * What the answer `status` to a request from byte `from` means. `fromStore`: it came from the
 * host the API redirected to, where a 403 is a presigned URL that expired (the API signs a new one).
 */
export function planAnswer(status: number, from: number, contentRange: string | null, fromStore: boolean): AnswerPlan {
  if (status === 200) return { kind: "write", append: false };
  if (status === 206) {
    const range = parseContentRange(contentRange);
    if (range?.start === from) return { kind: "write", append: from > 0 };
    return { kind: "restart", why: `asked from byte ${from}, got ${contentRange ?? "no Content-Range"}` };
  }
  if (status === 416)
    return { kind: "restart", why: `the server has no byte ${from}: the .part is not a prefix of the file` };
  if (status === 408 || status === 429 || status >= 500) return { kind: "retry", why: `HTTP ${status}` };
  if (status === 403 && fromStore) return { kind: "retry", why: "the download URL expired (HTTP 403)" };
  if (status === 404) return { kind: "fail", why: "no longer stored (HTTP 404): were the artifacts deleted?" };
  return { kind: "fail", why: `HTTP ${status}` };
}

/**
 * Why the downloaded bytes are not the artifact (null when they are): their sha256 must be the
 * list's and, when the answer carried one, X-Content-SHA256's; the size must be the list's.
 */
export function sha256Problem(
  file: string,
  got: { sha256: string; bytes: number },
  listed: { sha256: string; sizeBytes: number },
  header: string | null,
): string | null {
  const actual = got.sha256.toLowerCase();
  const problems: string[] = [];
  if (got.bytes !== listed.sizeBytes) problems.push(`${got.bytes} bytes instead of ${listed.sizeBytes}`);
  if (actual !== listed.sha256.toLowerCase())
    problems.push(`sha256 ${actual}, the list says ${listed.sha256.toLowerCase()}`);
  if (header !== null && actual !== header.trim().toLowerCase())
    problems.push(`sha256 ${actual}, X-Content-SHA256 says ${header.trim().toLowerCase()}`);
  return problems.length === 0 ? null : `${file}: checksum mismatch: ${problems.join("; ")}`;
}
