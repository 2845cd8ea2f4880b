import { baseModelProblem } from "./base-model";
import { normalizeImage, parseImageReference } from "./image-reference";

describe("image references (the distribution grammar, issue 34)", () => {
  it.each([
    ["runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204"],
    ["docker.io/runpod/pytorch", "runpod/pytorch"],
    ["index.docker.io/library/ubuntu:22.04", "ubuntu:22.04"],
    ["docker.io/library/ubuntu", "ubuntu"],
    ["library/ubuntu", "ubuntu"],
    ["ghcr.io/org/team/img:v1", "ghcr.io/org/team/img:v1"],
    ["localhost:5000/a/b", "localhost:5000/a/b"],
    ["localhost/a", "localhost/a"],
    ["[::1]:5000/a", "[::1]:5000/a"],
    ["Registry/a", "Registry/a"],
    ["a__b/c--d.e_f:T_1.x-y", "a__b/c--d.e_f:T_1.x-y"],
    [`a@sha512:${"0".repeat(128)}`, `a@sha512:${"0".repeat(128)}`],
    [`a:1@sha256:${"f".repeat(64)}`, `a:1@sha256:${"f".repeat(64)}`],
    [`a:${"t".repeat(128)}`, `a:${"t".repeat(128)}`],
  ])("%s parses and normalizes to %s", (raw, normalized) => {
    const parsed = parseImageReference(raw);
    expect(parsed.ok && parsed.ref.normalized).toBe(normalized);
    // normalizing is idempotent: what is stored parses to itself
    expect(normalizeImage(normalized)).toBe(normalized);
  });

  it.each([
    ["", /empty reference/],
    ["a:b:c", /tag "b:c"/],
    [`a:${"t".repeat(129)}`, /129 characters; at most 128/],
    ["a:.x", /tag ".x"/],
    ["a@sha256:ABCDEF", /digest/],
    [`a@sha256:${"A".repeat(64)}`, /digest/],
    [`a@md5:${"0".repeat(32)}`, /digest/],
    ["-a/b", /path component "-a"/],
    ["a_/b", /path component "a_"/],
    ["a___b", /path component "a___b"/],
    ["reg-.io/a", /registry "reg-\.io"/],
    ["reg.io:x/a", /registry/],
    ["a/", /empty path component/],
    ["/a", /empty path component/],
    [`${"a".repeat(256)}`, /256 characters; at most 255/],
    ["a\u00e9", /non-ASCII character U\+00E9 at position 2/],
    ["a\u0085", /control character U\+0085 at position 2/],
  ])("%j is refused: %s", (raw, why) => {
    const parsed = parseImageReference(raw);
    expect(parsed.ok ? "parsed" : parsed.reason).toMatch(why);
    expect(normalizeImage(raw)).toBe(raw);
  });
});

describe("baseModel forms", () => {
  it.each([
    "gpt2",
    "a",
    "a/b",
    "Org_1/Model-7B.v2",
    `${"o".repeat(96)}/${"n".repeat(96)}`,
    "/m",
    "/workspace/m.v1/x_y-z",
  ])("%s is fine", (m) => expect(baseModelProblem(m)).toBeNull());
  it.each([
    "",
    "a/b/c",
    ".a",
    "a.",
    "a-",
    "_a/-b",
    "a..b",
    "a/b.git",
    `${"n".repeat(97)}`,
    "/",
    "/a/",
    "/./a",
    "~/a",
    "a b",
    "a\tb",
    "$HOME",
    "a|b",
    "a&b",
    "a>b",
  ])("%j is refused", (m) => expect(baseModelProblem(m)).not.toBeNull());
});
