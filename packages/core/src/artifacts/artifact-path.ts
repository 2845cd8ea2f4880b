import { AppError } from "../errors";

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const MAX_SEGMENTS = 8;

/** `a/b/c.bin`, checked: up to 8 segments of A-Z a-z 0-9 . _ -, none `.` or `..`, nothing absolute. */
export function artifactPath(relative: unknown): string {
  const segments = typeof relative === "string" ? relative.split("/") : [];
  if (
    segments.length === 0 ||
    segments.length > MAX_SEGMENTS ||
    !segments.every((s) => SEGMENT.test(s) && s !== "." && s !== "..")
  ) {
    throw new AppError(
      "VALIDATION_FAILED",
      `artifact path must be up to ${MAX_SEGMENTS} segments of A-Z a-z 0-9 . _ -`,
    );
  }
  return segments.join("/");
}

/** Where a deployment's artifact lives in the artifact storage: always under its own deployment id. */
export function artifactStorageKey(deploymentId: string, path: string): string {
  return `${deploymentId}/${artifactPath(path)}`;
}
