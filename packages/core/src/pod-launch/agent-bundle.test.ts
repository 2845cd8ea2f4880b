import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import { ZIPAPP_MAIN, agentBundle, agentPackageDir, buildAgentBundle } from "./agent-bundle";

const tmp = mkdtempSync(path.join(os.tmpdir(), "trainpod-agent-bundle-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The package's .py files on disk, as zip paths, tests and caches left out. */
function pyFilesOnDisk(dir: string, rel = "trainpod_agent"): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory())
      return e.name === "__pycache__" || e.name === "tests"
        ? []
        : pyFilesOnDisk(path.join(dir, e.name), `${rel}/${e.name}`);
    return e.name.endsWith(".py") && !e.name.startsWith("test_") ? [`${rel}/${e.name}`] : [];
  });
}

describe("the agent bundle (a Python zipapp of pod-agent/trainpod_agent)", () => {
  const bundle = buildAgentBundle();
  const names = Object.keys(unzipSync(new Uint8Array(bundle.bytes)));

  it("holds a top-level __main__.py and every module of the package, sorted, nothing else", () => {
    expect(names[0]).toBe("__main__.py");
    expect(names.slice(1)).toEqual(pyFilesOnDisk(agentPackageDir()).sort());
    expect(names).toEqual(
      expect.arrayContaining([
        "trainpod_agent/__init__.py",
        "trainpod_agent/__main__.py",
        "trainpod_agent/config.py",
        "trainpod_agent/ml/seam.py",
      ]),
    );
    for (const n of names) expect(n).toMatch(/^[\w/]+\.py$/);
    expect(names.filter((n) => /__pycache__|\/tests\/|\/test_/.test(n))).toEqual([]);
    expect(Buffer.from(unzipSync(new Uint8Array(bundle.bytes))["__main__.py"] ?? []).toString("utf8")).toBe(
      ZIPAPP_MAIN,
    );
  });

  it("is deterministic: two builds give the same bytes and sha256, and the cached one is the same", () => {
    const again = buildAgentBundle();
    expect(again.sha256).toBe(bundle.sha256);
    expect(again.bytes.equals(bundle.bytes)).toBe(true);
    expect(bundle.sha256).toBe(createHash("sha256").update(bundle.bytes).digest("hex"));
    expect(agentBundle()).toBe(agentBundle());
    expect(agentBundle().sha256).toBe(bundle.sha256);
  });

  it("leaves out tests and __pycache__ (a package folder with both)", () => {
    const pkg = path.join(tmp, "pkg", "trainpod_agent");
    mkdirSync(path.join(pkg, "__pycache__"), { recursive: true });
    mkdirSync(path.join(pkg, "tests"));
    for (const f of ["__init__.py", "__main__.py", "a.py", "test_a.py", "notes.txt", "__pycache__/a.cpython-311.pyc"])
      writeFileSync(path.join(pkg, f), "x = 1\n");
    writeFileSync(path.join(pkg, "tests", "b.py"), "x = 1\n");
    const zipped = Object.keys(unzipSync(new Uint8Array(buildAgentBundle(pkg).bytes)));
    expect(zipped).toEqual([
      "__main__.py",
      "trainpod_agent/__init__.py",
      "trainpod_agent/__main__.py",
      "trainpod_agent/a.py",
    ]);
    rmSync(path.join(pkg, "__main__.py"));
    expect(() => buildAgentBundle(pkg)).toThrow(/no __main__\.py/);
  });

  it("imports in python3 from the written bytes alone (zipimport), with fixed entry times", () => {
    const pyz = path.join(tmp, "agent.pyz");
    writeFileSync(pyz, bundle.bytes);
    const code = [
      "import sys, zipfile",
      "sys.path.insert(0, sys.argv[1])",
      "import trainpod_agent.config, trainpod_agent.__main__ as m",
      "assert trainpod_agent.config.__file__.startswith(sys.argv[1]), trainpod_agent.config.__file__",
      "assert callable(m._entry)",
      "times = {i.date_time for i in zipfile.ZipFile(sys.argv[1]).infolist()}",
      "assert times == {(1980, 1, 1, 0, 0, 0)}, times",
      "print('ok')",
    ].join("\n");
    // -I: isolated (no cwd, no PYTHONPATH, no user site): the package can come from the zip only
    const r = spawnSync("python3", ["-I", "-c", code, pyz], { cwd: tmp, encoding: "utf8", timeout: 30_000 });
    expect({ status: r.status, out: `${r.stdout}${r.stderr}${r.error ?? ""}` }).toEqual({ status: 0, out: "ok\n" });
  });
});
