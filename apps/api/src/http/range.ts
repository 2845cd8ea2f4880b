/** The one byte range of a `Range: bytes=...` header, for a file of `size` bytes. */
export type RangeAnswer = { start: number; end: number } | "unsatisfiable" | null;

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/**
 * `bytes=N-`, `bytes=N-M` or `bytes=-K` (the last K bytes). null: no range, or one this server ignores
 * (several ranges, another unit): the whole file. "unsatisfiable": starts past the end (416).
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return null;
  const m = SINGLE.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}
