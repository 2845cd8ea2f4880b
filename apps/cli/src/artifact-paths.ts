import { realpathSync } from "node:fs";
import path from "node:path";
import { CliError } from "./exit-codes";

// control characters (NUL included) and the Windows separator have no place in an artifact path
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

/** The suffix of a file being downloaded; it becomes the file once its sha256 is verified. */
export const PART_SUFFIX = ".part";

function refuse(rel: string, why: string): CliError {
  return new CliError(`refusing artifact path ${JSON.stringify(rel)}: ${why}`);
}

/**
 * Where the artifact `rel` (as the API lists it: `a/b/c.bin`) lands inside `dir`, as an absolute
 * path; throws for anything that could land elsewhere: absolute paths, drive letters, `..` or `.`
 * segments, empty segments, backslashes, control characters.
 */
export function artifactTarget(dir: string, rel: string): string {
  if (typeof rel !== "string" || rel.length === 0) throw refuse(String(rel), "empty");
  if (FORBIDDEN.test(rel)) throw refuse(rel, "backslash or control character");
  if (rel.startsWith("/") || path.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) throw refuse(rel, "absolute path");
  const segments = rel.split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) throw refuse(rel, "empty, `.` or `..` segment");
  const root = path.resolve(dir);
  const target = path.resolve(root, ...segments);
  const back = path.relative(root, target);
  if (back === "" || back === ".." || back.startsWith(`..${path.sep}`) || path.isAbsolute(back))
    throw refuse(rel, `it would leave ${root}`);
  return target;
}

/**
 * Every artifact's target inside `dir`, checked before anything is written: each path safe, no two
 * files on the same target, no file where another needs a folder, and no file named like another's
 * download in progress (`x` and `x.part`).
 */
export function planTargets(dir: string, rels: string[]): Map<string, string> {
  const targets = new Map<string, string>();
  const byTarget = new Map<string, string>();
  for (const rel of rels) {
    const target = artifactTarget(dir, rel);
    const other = byTarget.get(target);
    if (other !== undefined) throw refuse(rel, `same file as ${JSON.stringify(other)}`);
    byTarget.set(target, rel);
    targets.set(rel, target);
  }
  for (const [target, rel] of byTarget) {
    const part = byTarget.get(`${target}${PART_SUFFIX}`);
    if (part !== undefined) throw refuse(part, `it is where ${JSON.stringify(rel)} is downloaded to`);
    for (let parent = path.dirname(target); parent !== path.dirname(parent); parent = path.dirname(parent)) {
      const clash = byTarget.get(parent);
      if (clash !== undefined) throw refuse(rel, `${JSON.stringify(clash)} is a file, not a folder`);
    }
  }
  return targets;
}

/** The artifact's path in a URL: each segment percent-encoded, the slashes kept. */
export function encodeArtifactPath(rel: string): string {
  return rel.split("/").map(encodeURIComponent).join("/");
}

/**
 * Throws unless `folder` (which exists) really lies inside `root` once symlinks are resolved: a link
 * inside the download folder must not carry a file elsewhere.
 */
export function assertRealInside(root: string, folder: string, rel: string): void {
  const realRoot = realpathSync(root);
  const real = realpathSync(folder);
  if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`))
    throw refuse(rel, `${folder} leads to ${real}, outside ${realRoot}`);
}
