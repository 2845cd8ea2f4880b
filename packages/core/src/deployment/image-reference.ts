/**
 * Container image references, parsed by the distribution grammar (github.com/distribution/reference: what Docker,
 * containerd and RunPod pull by) and normalized, so the allowlist matches what will really be pulled:
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [ domain "/" ] path-component ( "/" path-component )*      (at most 255 characters)
 *   domain           := host [ ":" port ]; host := domain-component ( "." domain-component )* | "[" IPv6 "]"
 *   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component   := [a-z0-9]+ ( separator [a-z0-9]+ )*;  separator := "." | "_" | "__" | "-"+
 *   tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest           := sha256:<64 hex> | sha384:<96 hex> | sha512:<128 hex>  (lowercase hex)
 *
 * The first component is a registry when it holds a "." or a ":", is "localhost", or has an uppercase letter
 * (Docker's rule). Normalized: Docker Hub's own names (`docker.io/`, `index.docker.io/`) and its `library/` are
 * dropped, as `docker pull` shows them (`docker.io/runpod/pytorch:2.4` is `runpod/pytorch:2.4`). Pure.
 */

export interface ImageReference {
  /** the registry, null for Docker Hub */
  registry: string | null;
  /** the repository's path, e.g. `runpod/pytorch` */
  path: string;
  tag: string | null;
  digest: string | null;
  /** registry/path:tag@digest, Docker Hub's names dropped: what the allowlist matches and RunPod is sent */
  normalized: string;
}

export type ImageParse = { ok: true; ref: ImageReference } | { ok: false; reason: string };

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const MAX_TAG = 128;
const MAX_NAME = 255;
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const DOCKER_HUB = new Set(["docker.io", "index.docker.io"]);

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;

/** The first character no reference (or name) may hold: a space, a control character, anything outside ASCII. */
export function badCharacter(s: string): string | null {
  let at = 0;
  for (const ch of s) {
    at += 1;
    const c = ch.codePointAt(0) ?? 0;
    if (c === 0x20) return `a space at position ${at}`;
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f))
      return `a control character ${codePoint(ch)} at position ${at}`;
    if (c > 0x7e) return `a non-ASCII character ${codePoint(ch)} at position ${at}`;
  }
  return null;
}

const fail = (reason: string): ImageParse => ({ ok: false, reason });

function digestProblem(digest: string): string | null {
  const [algorithm = "", hex = "", ...rest] = digest.split(":");
  const length = DIGEST_HEX[algorithm];
  if (rest.length > 0 || length === undefined || hex.length !== length || !/^[0-9a-f]+$/.test(hex))
    return `digest "${digest}" must be sha256:<64 lowercase hex> (or sha384:<96>, sha512:<128>)`;
  return null;
}

function tagProblem(tag: string): string | null {
  if (tag === "") return "an empty tag (nothing after the `:`)";
  if (tag.length > MAX_TAG) return `the tag is ${tag.length} characters; at most ${MAX_TAG}`;
  if (!TAG.test(tag)) return `tag "${tag}" may hold only letters, digits, _ . - (not starting with . or -)`;
  return null;
}

function domainProblem(domain: string): string | null {
  const host = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d{1,5})?$/.exec(domain)?.[1];
  if (host !== undefined && (host.startsWith("[") || host.split(".").every((c) => DOMAIN_COMPONENT.test(c))))
    return null;
  return `registry "${domain}" must be a host name (letters, digits, - inside, . between) with an optional :port`;
}

function componentProblem(component: string): string | null {
  if (component === "") return "an empty path component (a `//`, or a `/` at an end)";
  if (PATH_COMPONENT.test(component)) return null;
  if (PATH_COMPONENT.test(component.toLowerCase())) return `path component "${component}" must be lowercase`;
  return `path component "${component}" may hold only a-z 0-9 and the separators . _ __ - between them`;
}

/** the answers for the references seen last (a submission parses its image twice; most name one of a few) */
const remembered = new Map<string, Readonly<ImageParse>>();
const REMEMBERED = 256;

/** Parses `raw` (nothing trimmed: a stray space is refused, with where it is). The answer is shared: not to be changed. */
export function parseImageReference(raw: string): Readonly<ImageParse> {
  let answer = remembered.get(raw);
  if (answer === undefined) {
    answer = parseOnce(raw);
    if (remembered.size >= REMEMBERED) remembered.clear();
    remembered.set(raw, answer);
  }
  return answer;
}

function parseOnce(raw: string): ImageParse {
  if (raw === "") return fail("an empty reference");
  const bad = badCharacter(raw);
  if (bad !== null) return fail(`it holds ${bad}`);
  const at = raw.indexOf("@");
  const digest = at >= 0 ? raw.slice(at + 1) : null;
  const nameAndTag = at >= 0 ? raw.slice(0, at) : raw;
  if (digest !== null) {
    const problem = digestProblem(digest);
    if (problem) return fail(problem);
  }
  const colon = nameAndTag.indexOf(":", nameAndTag.lastIndexOf("/") + 1);
  const tag = colon >= 0 ? nameAndTag.slice(colon + 1) : null;
  const name = colon >= 0 ? nameAndTag.slice(0, colon) : nameAndTag;
  if (tag !== null) {
    const problem = tagProblem(tag);
    if (problem) return fail(problem);
  }
  if (name.length > MAX_NAME) return fail(`the name is ${name.length} characters; at most ${MAX_NAME}`);
  const parts = name.split("/");
  const first = parts[0] ?? "";
  const hasDomain = parts.length > 1 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
  const domain = hasDomain ? first : null;
  if (domain !== null) {
    const problem = domainProblem(domain);
    if (problem) return fail(problem);
  }
  const path = hasDomain ? parts.slice(1) : parts;
  for (const component of path) {
    const problem = componentProblem(component);
    if (problem) return fail(problem);
  }
  const registry = domain !== null && DOCKER_HUB.has(domain) ? null : domain;
  const familiar = registry === null && path.length === 2 && path[0] === "library" ? path.slice(1) : path;
  const normalized = `${registry ? `${registry}/` : ""}${familiar.join("/")}${tag !== null ? `:${tag}` : ""}${digest !== null ? `@${digest}` : ""}`;
  return { ok: true, ref: { registry, path: familiar.join("/"), tag, digest, normalized } };
}

/** The normalized reference, or `raw` itself when it does not parse (the pre-flight check says why). */
export function normalizeImage(raw: string): string {
  const parsed = parseImageReference(raw);
  return parsed.ok ? parsed.ref.normalized : raw;
}
