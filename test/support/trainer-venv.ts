import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";

/**
 * The trainer venv for `npm test` (issue 31): jest's global setup builds it on first use with
 * scripts/trainer-venv.sh, as it does the S3 server's venv, so the real trainer tests run on a fresh clone.
 * - TRAINER_PYTHON set (.ci/run builds the venv and sets it): used as it is; the tests fail if it is missing.
 * - else <repo>/.venv-trainer (TRAINER_VENV moves it): an existing venv with the trainer's modules is used as it
 *   is (rebuilding one that tests of another run may be using would pull it from under them; run
 *   scripts/trainer-venv.sh after changing the requirements); a missing or incomplete one is built, under a lock
 *   (.trainpod/trainer-venv.lock) so that two runs do not build it at once.
 * - no python >= 3.11, or the build fails: the real trainer tests skip, and the run's last lines say why
 *   (globalTeardown prints the note); with CI=true the run fails instead.
 * On success it sets TRAINER_PYTHON for the test files (jest's workers inherit the global setup's environment).
 */
export const TRAINER_VENV_NOTE_ENV = "TRAINPOD_TEST_TRAINER_VENV_NOTE";

const root = path.resolve(__dirname, "..", "..");
/** what the real trainer tests import (test/e2e/real-trainer, hub-push, pod-agent's `real` pytest tests) */
const MODULES = ["torch", "transformers", "peft", "trl", "huggingface_hub", "pytest", "pytest_cov", "ruff"];
const MIN_PYTHON = [3, 11] as const;

function hasModules(python: string): boolean {
  if (!existsSync(python)) return false;
  // find_spec only locates the modules (importing torch takes seconds)
  const check = `import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ${JSON.stringify(MODULES)}) else 1)`;
  return spawnSync(python, ["-c", check], { timeout: 60_000 }).status === 0;
}

/** The first python >= 3.11 among PYTHON, python3, python3.13, python3.12, python3.11 (TRAINER_VENV_PYTHONS replaces the list). */
export function findBuildPython(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = env.TRAINER_VENV_PYTHONS
    ? env.TRAINER_VENV_PYTHONS.split(/\s+/).filter(Boolean)
    : [env.PYTHON, "python3", "python3.13", "python3.12", "python3.11"].filter((p): p is string => Boolean(p));
  const check = `import sys; sys.exit(0 if sys.version_info >= (${MIN_PYTHON.join(", ")}) else 1)`;
  return candidates.find((p) => spawnSync(p, ["-c", check], { timeout: 30_000 }).status === 0) ?? null;
}

function runScript(python: string, venv: string): Promise<{ code: number | null; python: string }> {
  const script = path.join(root, "scripts", "trainer-venv.sh");
  const lockDir = path.join(root, ".trainpod");
  mkdirSync(lockDir, { recursive: true });
  const hasFlock = spawnSync("flock", ["--version"]).status === 0;
  const [cmd, args] = hasFlock
    ? ["flock", [path.join(lockDir, "trainer-venv.lock"), script]]
    : [script, [] as string[]];
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, PYTHON: python, TRAINER_VENV: venv },
    stdio: ["ignore", "pipe", "inherit"], // its progress lines (stderr) show; its last stdout line is the python
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  return new Promise((resolve) => {
    child.once("error", () => resolve({ code: -1, python: "" }));
    child.once("close", (code) => resolve({ code, python: out.trim().split("\n").pop() ?? "" }));
  });
}

/** Returns null when the venv is ready (TRAINER_PYTHON then names it), else the note for the run's last lines. */
export async function ensureTrainerVenv(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (env.TRAINER_PYTHON) return null;
  const venv = path.resolve(root, env.TRAINER_VENV || ".venv-trainer");
  const venvPython = path.join(venv, "bin", "python");
  const ready = () => {
    process.env.TRAINER_PYTHON = venvPython;
    return null;
  };
  if (hasModules(venvPython)) return ready();
  const fail = (why: string): string => {
    const what = `the trainer venv (${venv}) could not be built: ${why}`;
    if (env.CI === "true" || env.CI === "1")
      throw new Error(`${what}. CI runs the real trainer tests: fix the build or set TRAINER_PYTHON`);
    return (
      `${what}, so the real trainer tests were skipped (test/e2e/real-trainer, test/e2e/hub-push, pod-agent's ` +
      `\`real\` pytest tests). Install Python ${MIN_PYTHON.join(".")}+ and run npm test again, or run scripts/trainer-venv.sh.`
    );
  };
  const python = findBuildPython(env);
  if (!python) return fail(`no python >= ${MIN_PYTHON.join(".")} found`);
  process.stderr.write(`\n[global-setup] building the trainer venv in ${venv} with ${python} (first run only)\n`);
  const built = await runScript(python, venv);
  if (built.code !== 0) return fail(`scripts/trainer-venv.sh exited with ${built.code}`);
  if (!hasModules(venvPython)) return fail(`${venvPython} lacks some of ${MODULES.join(", ")}`);
  return ready();
}
