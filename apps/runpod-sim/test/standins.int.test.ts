import { execFile } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { ConfigError, loadConfig } from "../src/config";
import { adminPod, call, podBody, startSim, waitFor, type ApiPod } from "./helpers";

const BIN = path.resolve(__dirname, "..", "bin");
const run = promisify(execFile);
const env = { PATH: `${BIN}:${process.env.PATH ?? ""}` };
const tmp = mkdtempSync(path.join(os.tmpdir(), "sim-standins-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the python stand-in: fakes --version and pip, runs the real python3 for everything else", () => {
  it("--version and -m pip are faked (nothing installed)", async () => {
    expect((await run(path.join(BIN, "python3"), ["--version"], { env })).stdout).toBe("Python 3.10.12\n");
    const pip = await run(path.join(BIN, "python"), ["-m", "pip", "install", "torch==9.9.9"], { env });
    expect(pip.stdout).toContain("Requirement already satisfied: torch==9.9.9");
    expect((await run(path.join(BIN, "python"), ["-m", "pip", "install", "-q", "x"], { env })).stdout).toBe("");
  });

  it("-c, a script and -m run in the real python3 (not the stand-in), with its exit code and PATH unchanged", async () => {
    const code =
      "import os, sys; print(sys.executable); print(os.environ['PATH'].split(os.pathsep).count(sys.argv[1]))";
    const out = (await run(path.join(BIN, "python"), ["-c", code, BIN], { env })).stdout.trim().split("\n");
    expect(out[0]).not.toContain(BIN);
    expect(out[1]).toBe("1"); // the pod's processes still find nvidia-smi (and this stand-in) on PATH
    const script = path.join(tmp, "exit3.py");
    writeFileSync(script, "import sys\nprint('args', sys.argv[1:])\nsys.exit(3)\n");
    await expect(run(path.join(BIN, "python3"), [script, "--x", "y"], { env })).rejects.toMatchObject({
      code: 3,
      stdout: "args ['--x', 'y']\n",
    });
    expect((await run(path.join(BIN, "python"), ["-m", "platform"], { env })).stdout).toMatch(/^\w+-/);
  });

  it("without a real python3 outside its folder it says so and exits 127", async () => {
    await expect(run(path.join(BIN, "python"), ["-c", "print(1)"], { env: { PATH: BIN } })).rejects.toMatchObject({
      code: 127,
    });
  });

  it("nvidia-smi reports the pod's GPU", async () => {
    const smi = await run(path.join(BIN, "nvidia-smi"), [], {
      env: { ...env, SIM_GPU_NAME: "NVIDIA A40", RUNPOD_GPU_COUNT: "1" },
    });
    expect(smi.stdout).toContain("NVIDIA A40");
  });
});

describe("the pods' ML mode (SIM_ML)", () => {
  it("SIM_ML: simulated by default, real when asked, anything else refused", () => {
    expect(loadConfig({}).ml).toBe("simulated");
    expect(loadConfig({ SIM_ML: "real" }).ml).toBe("real");
    expect(() => loadConfig({ SIM_ML: "gpu" })).toThrow(ConfigError);
  });

  /** What a pod's `python` sees: TRAINPOD_ML and which python runs. */
  async function podSees(sim: Awaited<ReturnType<typeof startSim>>, podEnv: Record<string, string> = {}) {
    const script = [
      'cd "${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}"',
      "python -m pip install -q peft",
      `python -c 'import os, sys; print(os.environ.get("TRAINPOD_ML", "-")); print(sys.executable)' > seen.txt`,
    ].join(" && ");
    const pod = (
      await call<ApiPod>(
        sim.api,
        "POST",
        "/pods",
        podBody({ env: podEnv, args: JSON.stringify({ entrypoint: ["bash", "-c"], cmd: [script] }) }),
      )
    ).body;
    const done = await waitFor("pod exit", async () => {
      const a = await adminPod(sim, pod.id);
      return a.status === "EXITED" ? a : undefined;
    });
    expect(done.lastExitCode).toBe(0);
    await call(sim.api, "DELETE", `/pods/${pod.id}`);
    const [ml, executable] = readFileSync(path.join(done.workDir, "seen.txt"), "utf8").trim().split("\n");
    return { ml, executable };
  }

  it("simulated: every pod gets TRAINPOD_ML=simulated (its own env may override it) and runs the real python3", async () => {
    const sim = await startSim({ restartPolicy: "never", bootDelayMs: 0 });
    try {
      const seen = await podSees(sim);
      expect(seen.ml).toBe("simulated");
      expect(seen.executable).not.toContain(BIN);
      expect((await podSees(sim, { TRAINPOD_ML: "real" })).ml).toBe("real");
    } finally {
      await sim.close();
    }
  });

  it("real: the pods get no TRAINPOD_ML", async () => {
    const sim = await startSim({ restartPolicy: "never", bootDelayMs: 0, ml: "real" });
    try {
      expect((await podSees(sim)).ml).toBe("-");
    } finally {
      await sim.close();
    }
  });
});
