import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// The pod agent's python tests, run in `npm test`: `python -m pytest` in pod-agent/ with coverage (the total is
// printed), then `ruff check`. The trainer venv runs them (TRAINER_PYTHON, which .ci/run exports: then a missing or
// incomplete venv, a failing or a skipped test fail this file; else <repo>/.venv-trainer/bin/python, built by
// scripts/trainer-venv.sh). Without the venv, python3 runs what it can (no `real` tests), and says what it left out.
const AGENT_DIR = __dirname;
const REPO = path.join(__dirname, "..");
const venvPython = process.env.TRAINER_PYTHON || path.join(REPO, ".venv-trainer", "bin", "python");
const required = Boolean(process.env.TRAINER_PYTHON);
const VENV_MODULES = "import torch, transformers, peft, trl, pytest, pytest_cov, ruff";
const hasVenv = existsSync(venvPython) && spawnSync(venvPython, ["-c", VENV_MODULES]).status === 0;
const has = (exe: string, modules: string) => spawnSync(exe, ["-c", `import ${modules}`]).status === 0;

const pycache = mkdtempSync(path.join(os.tmpdir(), "trainpod-agent-pycache-"));
afterAll(() => rmSync(pycache, { recursive: true, force: true }));

function python(exe: string, args: string[], timeout: number) {
  const r = spawnSync(exe, args, {
    cwd: AGENT_DIR,
    encoding: "utf8",
    timeout,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      PYTHONPYCACHEPREFIX: pycache,
      HF_HUB_OFFLINE: "1",
      OMP_NUM_THREADS: "2",
      COVERAGE_FILE: path.join(pycache, ".coverage"),
    },
  });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

/** pytest's summary line counts: {passed: 12, skipped: 1, ...} */
function counts(output: string): Record<string, number> {
  const summary = output.trim().split("\n").at(-1) ?? "";
  return Object.fromEntries([...summary.matchAll(/(\d+) (\w+)/g)].map((m) => [m[2] ?? "", Number(m[1])]));
}

describe("pod agent (python): pytest with coverage, ruff", () => {
  if (required && !hasVenv) {
    it("TRAINER_PYTHON runs and has torch/transformers/peft/trl/pytest/pytest-cov/ruff", () => {
      throw new Error(
        `TRAINER_PYTHON=${venvPython} is missing or lacks (${VENV_MODULES}): run scripts/trainer-venv.sh`,
      );
    });
    return;
  }
  const exe = hasVenv ? venvPython : has("python3", "pytest") ? "python3" : null;
  if (!exe) {
    it.skip("SKIPPED: neither the trainer venv nor a python3 with pytest: the agent's tests were not run (run scripts/trainer-venv.sh)", () =>
      undefined);
    return;
  }
  const withCoverage = hasVenv || has(exe, "pytest_cov");

  it(`pytest passes (${exe}${hasVenv ? "" : ", without the `real` tests"}), with the coverage total printed`, () => {
    const args = ["-m", "pytest", "-q", "-rs", ...(hasVenv ? [] : ["-m", "not real"])];
    if (withCoverage) args.push("--cov=trainpod_agent", "--cov-report=term");
    const r = python(exe, args, 540_000);
    if (r.status !== 0) throw new Error(`pytest exited ${r.status}:\n${r.output.slice(-8000)}`);
    const n = counts(r.output);
    expect(n.passed ?? 0).toBeGreaterThan(0);
    expect(n.failed ?? 0).toBe(0);
    // with the venv every test runs: a skip there means something is missing
    if (hasVenv && n.skipped)
      throw new Error(`${n.skipped} tests skipped with the trainer venv:\n${r.output.slice(-4000)}`);
    if (!withCoverage) {
      console.log(`pod-agent: ${n.passed} passed; coverage not measured (pytest-cov missing in ${exe})`);
      return;
    }
    const total = /^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$/m.exec(r.output);
    if (!total) throw new Error(`no coverage TOTAL line in pytest's output:\n${r.output.slice(-4000)}`);
    console.log(`pod-agent: ${n.passed} passed, ${n.skipped ?? 0} skipped; coverage of trainpod_agent: ${total[1]}%`);
  }, 560_000);

  if (!has(exe, "ruff")) {
    it.skip(`SKIPPED: ruff is not installed in ${exe}: ruff check was not run (run scripts/trainer-venv.sh)`, () =>
      undefined);
    return;
  }
  it("ruff check is clean", () => {
    const r = python(exe, ["-m", "ruff", "check", "--no-cache", "."], 60_000);
    if (r.status !== 0) throw new Error(`ruff check exited ${r.status}:\n${r.output.slice(-8000)}`);
  });
});
