import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// The trainer's own python tests (test_train.py: pure helpers, no ML libraries needed), run in `npm test`.
const TRAINER_DIR = __dirname;
const hasPython = spawnSync("python3", ["--version"], { encoding: "utf8" }).status === 0;

// bytecode goes to a temp dir, not into the source tree
const pycache = mkdtempSync(path.join(os.tmpdir(), "trainpod-pycache-"));
afterAll(() => rmSync(pycache, { recursive: true, force: true }));

function python(args: string[]) {
  const r = spawnSync("python3", args, {
    cwd: TRAINER_DIR,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PYTHONPYCACHEPREFIX: pycache },
  });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

if (!hasPython) {
  describe("trainer (python)", () => {
    it.skip("SKIPPED: python3 is not installed, so train.py and test_train.py were not run", () => undefined);
  });
} else {
  describe("trainer (python)", () => {
    it("train.py compiles (python3 -m py_compile train.py)", () => {
      const r = python(["-m", "py_compile", "train.py"]);
      expect(r).toEqual({ status: 0, output: "" });
    });

    it("test_train passes (python3 -m unittest test_train)", () => {
      const r = python(["-m", "unittest", "-v", "test_train"]);
      if (r.status !== 0) throw new Error(`python3 -m unittest test_train exited ${r.status}:\n${r.output}`);
      expect(r.output).toMatch(/\nOK\b/);
      expect(r.output).toMatch(/Ran [1-9]\d* tests?/);
    });
  });
}
