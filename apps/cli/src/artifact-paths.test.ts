import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CliError } from "./exit-codes";
import { artifactTarget, assertRealInside, encodeArtifactPath, planTargets } from "./artifact-paths";

const ROOT = path.resolve("/tmp/pull-root");

describe("artifactTarget", () => {
  it.each([
    ["adapter_model.safetensors", "adapter_model.safetensors"],
    ["merged/model-00001-of-00002.safetensors", "merged/model-00001-of-00002.safetensors"],
    ["a/b/c/d.bin", "a/b/c/d.bin"],
    ["..hidden", "..hidden"],
    ["dots..in..name", "dots..in..name"],
  ])("keeps %s inside the folder", (rel, expected) => {
    expect(artifactTarget(ROOT, rel)).toBe(path.join(ROOT, expected));
  });

  it.each([
    ["../escape.bin", "`..`"],
    ["a/../../escape.bin", "`..`"],
    ["a/..", "`..`"],
    ["..", "`..`"],
    ["/etc/passwd", "absolute"],
    ["C:/Windows/x.dll", "absolute"],
    ["a\\..\\..\\x", "backslash"],
    ["a//b", "empty"],
    ["a/./b", "empty"],
    ["trailing/", "empty"],
    ["", "empty"],
    ["nul\u0000byte", "control"],
    ["new\nline", "control"],
  ])("refuses %j (%s)", (rel, why) => {
    let caught: unknown;
    try {
      artifactTarget(ROOT, rel);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect((caught as CliError).message).toContain("refusing artifact path");
    expect((caught as CliError).message).toContain(why);
  });
});

describe("planTargets", () => {
  it("maps every path to its target", () => {
    const t = planTargets(ROOT, ["a.json", "sub/b.bin"]);
    expect([...t.entries()]).toEqual([
      ["a.json", path.join(ROOT, "a.json")],
      ["sub/b.bin", path.join(ROOT, "sub", "b.bin")],
    ]);
  });

  it("refuses the whole list when one path escapes, a file is listed twice, a file stands where a folder must be, or a name is another's .part", () => {
    expect(() => planTargets(ROOT, ["ok.bin", "../../x"])).toThrow(/refusing artifact path "\.\.\/\.\.\/x"/);
    expect(() => planTargets(ROOT, ["a.bin", "a.bin"])).toThrow(/same file as "a\.bin"/);
    expect(() => planTargets(ROOT, ["merged", "merged/model.bin"])).toThrow(/"merged" is a file, not a folder/);
    expect(() => planTargets(ROOT, ["model.bin.part", "model.bin"])).toThrow(
      /refusing artifact path "model\.bin\.part": it is where "model\.bin" is downloaded to/,
    );
  });
});

describe("encodeArtifactPath", () => {
  it("encodes each segment and keeps the slashes", () => {
    expect(encodeArtifactPath("merged/model 1#.bin")).toBe("merged/model%201%23.bin");
  });
});

describe("assertRealInside", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "cli-paths-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts a real sub-folder and refuses a symlink that leads out of the folder", () => {
    const root = path.join(dir, "root");
    const outside = path.join(dir, "outside");
    mkdirSync(path.join(root, "sub"), { recursive: true });
    mkdirSync(outside);
    symlinkSync(outside, path.join(root, "link"));
    expect(() => assertRealInside(root, path.join(root, "sub"), "sub/a.bin")).not.toThrow();
    expect(() => assertRealInside(root, root, "a.bin")).not.toThrow();
    expect(() => assertRealInside(root, path.join(root, "link"), "link/a.bin")).toThrow(
      /refusing artifact path "link\/a\.bin": .* outside /,
    );
  });
});
