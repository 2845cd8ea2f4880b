import { AppError } from "../errors";

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;
const MAX_KEY_LENGTH = 1024;

/**
 * Checks an object key: `/`-separated segments of A-Z a-z 0-9 . _ -, none of them `.` or `..`,
 * not absolute, no backslashes, no `%` (so no encoded traversal), no NUL. Throws VALIDATION_FAILED.
 */
export function assertSafeKey(key: string): void {
  const bad = (): never => {
    throw new AppError("VALIDATION_FAILED", "invalid storage key");
  };
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) bad();
  const segments = key.split("/");
  for (const s of segments) {
    if (s === "." || s === ".." || !SEGMENT.test(s)) bad();
  }
}
