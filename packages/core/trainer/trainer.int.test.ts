import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// The trainer's python tests, run in `npm test`: test_train.py (helpers and the rules shared with the API: stdlib
// only) and test_train_real.py (train.py trained for real on the CPU: a tiny Llama, the pinned libraries). The
// real tests need the trainer venv: TRAINER_PYTHON (.ci/run exports it, and then a missing venv fails the run),
// else <repo>/.venv-trainer/bin/python (scripts/trainer-venv.sh builds it).
const TRAINER_DIR = __dirname;
const REPO = path.join(__dirname, "..", "..", "..");
const venvPython = process.env.TRAINER_PYTHON || path.join(REPO, ".venv-trainer", "bin", "python");
const required = Boolean(process.env.TRAINER_PYTHON);
const hasVenv =
  existsSync(venvPython) && spawnSync(venvPython, ["-c", "import torch, transformers, peft, trl, pytest"]).status === 0;
const hasPython = spawnSync("python3", ["--version"], { encoding: "utf8" }).status === 0;

const pycache = mkdtempSync(path.join(os.tmpdir(), "trainpod-pycache-"));
afterAll(() => rmSync(pycache, { recursive: true, force: true }));

function python(exe: string, args: string[], timeout = 60_000) {
  const r = spawnSync(exe, args, {
    cwd: TRAINER_DIR,
    encoding: "utf8",
    timeout,
    env: { ...process.env, PYTHONPYCACHEPREFIX: pycache, HF_HUB_OFFLINE: "1", OMP_NUM_THREADS: "2" },
  });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

describe("trainer (python)", () => {
  if (required && !hasVenv) {
    it("TRAINER_PYTHON runs and has the pinned libraries", () => {
      throw new Error(
        `TRAINER_PYTHON=${venvPython} is missing or lacks torch/transformers/peft/trl/pytest: run scripts/trainer-venv.sh`,
      );
    });
  }
  const exe = hasVenv ? venvPython : hasPython ? "python3" : null;
  if (!exe) {
    it.skip("SKIPPED: python3 is not installed, so train.py and its tests were not run", () => undefined);
    return;
  }
  it(`train.py compiles (${exe} -m py_compile train.py)`, () => {
    expect(python(exe, ["-m", "py_compile", "train.py"])).toEqual({ status: 0, output: "" });
  });

  it("test_train passes: the helpers and the rules shared with the API", () => {
    const r = python(exe, ["-m", "unittest", "-v", "test_train"]);
    if (r.status !== 0) throw new Error(`unittest test_train exited ${r.status}:\n${r.output}`);
    expect(r.output).toMatch(/Ran [1-9]\d* tests?/);
  });

  if (!hasVenv) {
    it.skip(`SKIPPED: the trainer venv (${venvPython}, with torch/transformers/peft/trl/pytest) is missing, so train.py was not trained for real: run scripts/trainer-venv.sh`, () =>
      undefined);
    return;
  }
  it("test_train_real passes: train.py trains a tiny Llama for real on the CPU, both formats", () => {
    const r = python(exe, ["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_train_real.py"], 240_000);
    if (r.status !== 0) throw new Error(`pytest test_train_real.py exited ${r.status}:\n${r.output.slice(-6000)}`);
    expect(r.output).toMatch(/\b[1-9]\d* passed/);
    expect(r.output).not.toMatch(/failed|skipped/);
  }, 250_000);
});
