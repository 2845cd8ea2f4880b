import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  TRAINER_REQUIREMENTS,
  loadTrainerSource,
  podLaunch,
  renderStartScript,
  type LaunchInput,
} from "./start-script";

const START_SH = readFileSync(path.join(__dirname, "start.sh"), "utf8");
const TRAIN_PY = readFileSync(path.join(__dirname, "..", "..", "trainer", "train.py"), "utf8");
const REQUIREMENTS_TXT = readFileSync(path.join(__dirname, "..", "..", "trainer", "requirements.txt"), "utf8");

const DATASET_TOKEN = "dlt_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const RUN_TOKEN = "run_0a1b2c3d4e5f60718293a4b5c6d7e8f9";

function input(overrides: Partial<LaunchInput> = {}): LaunchInput {
  return {
    deploymentId: "5b0c9a52-3f1e-4f7e-9d55-2c1f0e6a7b8c",
    datasetUrl: `https://api.trainpod.test/v1/dataset-downloads/abc?token=${DATASET_TOKEN}`,
    datasetSha256: "a".repeat(64),
    runToken: RUN_TOKEN,
    eventsUrl: "https://api.trainpod.test/v1/runs/5b0c9a52-3f1e-4f7e-9d55-2c1f0e6a7b8c/events",
    artifactsUrl: "https://api.trainpod.test/v1/runs/5b0c9a52-3f1e-4f7e-9d55-2c1f0e6a7b8c/artifacts",
    baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    hyperparameters: { steps: 10, learning_rate: 0.0002 },
    trainerSource: loadTrainerSource(),
    ...overrides,
  };
}

const decode = (b64: string | undefined) => Buffer.from(b64 ?? "", "base64").toString("utf8");

describe("podLaunch", () => {
  const spec = podLaunch(input());

  it("puts every secret in the env only, never in the command, the entrypoint or the script", () => {
    expect(spec.env.TRAINPOD_DATASET_URL).toContain(DATASET_TOKEN);
    expect(spec.env.TRAINPOD_RUN_TOKEN).toBe(RUN_TOKEN);
    const command = spec.args;
    const script = decode(spec.env.TRAINPOD_START_SCRIPT_B64);
    for (const secret of [DATASET_TOKEN, RUN_TOKEN, spec.env.TRAINPOD_DATASET_URL ?? "unset"]) {
      expect(command).not.toContain(secret);
      expect(script).not.toContain(secret);
      expect(renderStartScript()).not.toContain(secret);
    }
    // the only env entries holding the secrets are the two meant for them
    const holders = Object.entries(spec.env)
      .filter(([, v]) => v.includes(DATASET_TOKEN) || v.includes(RUN_TOKEN))
      .map(([k]) => k)
      .sort();
    expect(holders).toEqual(["TRAINPOD_DATASET_URL", "TRAINPOD_RUN_TOKEN"]);
  });

  it("the command (v2 args, JSON form) is a bootstrap that decodes the script from the env and execs it", () => {
    const args = JSON.parse(spec.args) as { entrypoint: string[]; cmd: string[] };
    expect(args.entrypoint).toEqual(["bash", "-c"]);
    expect(args.cmd).toHaveLength(1);
    expect(args.cmd[0]).toContain("$TRAINPOD_START_SCRIPT_B64");
    expect(args.cmd[0]).toContain("exec bash");
    expect(() => execFileSync("bash", ["-n", "-c", args.cmd[0] ?? ""])).not.toThrow();
  });

  it("carries the run's settings in the env", () => {
    expect(spec.env).toMatchObject({
      TRAINPOD_DEPLOYMENT_ID: "5b0c9a52-3f1e-4f7e-9d55-2c1f0e6a7b8c",
      TRAINPOD_DATASET_SHA256: "a".repeat(64),
      TRAINPOD_BASE_MODEL: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
      TRAINPOD_TRAINER_REQUIREMENTS: TRAINER_REQUIREMENTS,
    });
    expect(JSON.parse(spec.env.TRAINPOD_HYPERPARAMETERS ?? "null")).toEqual({ steps: 10, learning_rate: 0.0002 });
  });

  it("the decoded TRAINPOD_START_SCRIPT_B64 is start.sh, byte for byte, and passes bash -n", () => {
    const script = decode(spec.env.TRAINPOD_START_SCRIPT_B64);
    expect(script).toBe(START_SH);
    expect(renderStartScript()).toBe(START_SH);
    expect(() => execFileSync("bash", ["-n"], { input: script, stdio: ["pipe", "pipe", "pipe"] })).not.toThrow();
  });

  it("the script is strict, traps ERR and waits only between retries and in the dead-man switch", () => {
    const code = START_SH.split("\n")
      .filter((l) => !l.trimStart().startsWith("#"))
      .join("\n");
    expect(code).toMatch(/^set -Eeuo pipefail$/m);
    expect(code).toMatch(/^trap .+ ERR$/m);
    // one sleep, in pause(); pause is called by the retry loop, the grace wait, after a self-delete and by the watchdog
    expect(code.match(/\bsleep\b/g)).toEqual(["sleep"]);
    expect(code).toMatch(/^pause\(\) \{ sleep "\$1"; \}/m);
    expect(code.match(/\bpause "?\$?[\w]+"?/g)).toEqual([
      'pause "$RETRY_DELAY"',
      'pause "$every"',
      'pause "$GRACE"',
      "pause 60",
    ]);
  });

  it("curl gets no secret on its command line: tokens and the dataset URL go through a config on a pipe", () => {
    const curls = START_SH.split("\n").filter((l) => /\bcurl -/.test(l));
    expect(curls).toEqual([
      expect.stringContaining('curl -sS -o "$out" -w \'%{http_code}\' -K <(printf \'%s\\n\' "$cfg") "$@"'),
    ]);
    for (const secret of ["TRAINPOD_RUN_TOKEN", "TRAINPOD_DATASET_URL", "RUNPOD_API_KEY"]) {
      const uses = START_SH.split("\n").filter((l) => l.includes(`\${${secret}}`));
      expect(uses.length).toBeGreaterThan(0);
      for (const l of uses) expect(l).toMatch(/\$\(cfg_str "(Authorization: Bearer )?\$\{\w+\}"\)/);
    }
  });

  it("the dead-man switch's settings travel in the env, and are absent (switch off) when not given", () => {
    expect(
      Object.keys(spec.env).filter((k) => /RUNPOD_API_URL|SELF_TERMINATE|MAX_RUNTIME|UNREACHABLE/.test(k)),
    ).toEqual([]);
    const on = podLaunch(
      input({
        selfTerminate: {
          runpodApiUrl: "https://api.runpod.io/v2/",
          graceSeconds: 120,
          maxRuntimeSeconds: 240 * 60,
          unreachableSeconds: 900,
        },
      }),
    );
    expect(on.env).toMatchObject({
      TRAINPOD_RUNPOD_API_URL: "https://api.runpod.io/v2",
      TRAINPOD_SELF_TERMINATE_GRACE_S: "120",
      TRAINPOD_MAX_RUNTIME_S: "14400",
      TRAINPOD_UNREACHABLE_S: "900",
    });
    expect(on.args).toBe(spec.args);
  });

  it("TRAINPOD_TRAINER_B64 decodes to trainer/train.py", () => {
    expect(loadTrainerSource()).toBe(TRAIN_PY);
    expect(decode(spec.env.TRAINPOD_TRAINER_B64)).toBe(TRAIN_PY);
  });

  it("TRAINER_REQUIREMENTS are exactly requirements.txt's pins, in order", () => {
    const pins = REQUIREMENTS_TXT.split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter((l) => l !== "");
    expect(pins.length).toBeGreaterThan(0);
    for (const pin of pins) expect(pin).toMatch(/^[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*$/);
    expect(TRAINER_REQUIREMENTS.split(/\s+/)).toEqual(pins);
  });

  it("keeps the whole env under 64 KiB", () => {
    const bytes = Object.entries(spec.env).reduce((n, [k, v]) => n + Buffer.byteLength(`${k}=${v}`) + 1, 0);
    expect(bytes).toBeLessThan(64 * 1024);
    for (const v of Object.values(spec.env)) expect(typeof v).toBe("string");
  });
});
