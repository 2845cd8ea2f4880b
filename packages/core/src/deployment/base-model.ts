import { badCharacter } from "./image-reference";

/**
 * What `baseModel` may name (the pod agent's `fetch`: a directory on the pod is used as it is, anything else is
 * fetched from the Hugging Face hub), in one of two forms:
 * - a hub repo id, the hub's own rule (huggingface_hub's validate_repo_id): `name` or `owner/name`, each part 1-96
 *   of A-Z a-z 0-9 . _ -, not starting or ending with . or -, no `--` or `..`, not ending in `.git`;
 * - an absolute path of a directory on the pod (a network volume's model folder; the tests' local models):
 *   `/` then segments of A-Z a-z 0-9 . _ -, no empty, `.` or `..` segment.
 * Never spaces, control characters, shell metacharacters or anything outside ASCII. Pure; null when it is fine.
 */
const HUB_PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;

export function baseModelProblem(model: string): string | null {
  const bad = badCharacter(model);
  if (bad !== null) return `it holds ${bad}`;
  if (model.startsWith("/")) {
    const segments = model.slice(1).split("/");
    const fine = segments.every((s) => PATH_SEGMENT.test(s) && s !== "." && s !== "..");
    return fine
      ? null
      : "an absolute path on the pod must be / then segments of A-Z a-z 0-9 . _ - (no empty, . or .. segment)";
  }
  const parts = model.split("/");
  const fine =
    parts.length <= 2 &&
    parts.every((p) => HUB_PART.test(p)) &&
    !model.includes("--") &&
    !model.includes("..") &&
    !model.endsWith(".git");
  return fine
    ? null
    : "a hub repo id is `name` or `owner/name`, each 1-96 of A-Z a-z 0-9 . _ - (not starting or ending with . or -, no -- or .., not ending in .git); or give an absolute path on the pod";
}

/**
 * A path under the cache volume's mount (CACHE_VOLUME_MOUNT_PATH) names other runs' cached files (another user's
 * gated weights among them): never a base model. Segment-wise (`/trainpod-cache2` is not under `/trainpod-cache`).
 * Pure; null when it is fine.
 */
export function cacheMountProblem(model: string, mountPath: string): string | null {
  const mount = mountPath.replace(/\/+$/, "");
  if (mount === "" || (model !== mount && !model.startsWith(`${mount}/`))) return null;
  return `${mount} is the cache volume shared by every user's runs: a base model cannot be read from it; name the hub repo id instead`;
}
