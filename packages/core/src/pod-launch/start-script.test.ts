import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { podUrls } from "./pod-urls";
import { TRAINER_REQUIREMENTS, heartbeatSeconds, podLaunch, renderStartScript, type LaunchInput } from "./start-script";

const START_SH = readFileSync(path.join(__dirname, "start.sh"), "utf8");
const REPO = path.join(__dirname, "..", "..", "..", "..");
/** the pins' one source: trainer/requirements.txt (beside the agent once it moves there) */
const REQUIREMENTS_TXT = readFileSync(
  [
    path.join(REPO, "pod-agent", "requirements.txt"),
    path.join(REPO, "packages", "core", "trainer", "requirements.txt"),
  ].find((p) => existsSync(p)) ?? "requirements.txt not found",
  "utf8",
);

const DEPLOYMENT = "5b0c9a52-3f1e-4f7e-9d55-2c1f0e6a7b8c";
const DATASET_TOKEN = "dlt_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const RUN_TOKEN = "run_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const POD_KEY = "rpa_POD0123456789abcdefghijklmnopqrst";
const AGENT_SHA256 = "b".repeat(64);
const urls = podUrls("https://api.trainpod.test", DEPLOYMENT);

function input(overrides: Partial<LaunchInput> = {}): LaunchInput {
  return {
    deploymentId: DEPLOYMENT,
    datasetUrl: `https://api.trainpod.test/v1/datasets/download?token=${DATASET_TOKEN}`,
    datasetSha256: "a".repeat(64),
    runToken: RUN_TOKEN,
    eventsUrl: urls.events,
    artifactsUrl: urls.artifacts,
    baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    hyperparameters: { steps: 10, learning_rate: 0.0002 },
    agentUrl: urls.agent,
    agentSha256: AGENT_SHA256,
    ...overrides,
  };
}

const decode = (b64: string | undefined) => Buffer.from(b64 ?? "", "base64").toString("utf8");
/** the script's code lines: no comments, no blank lines */
const code = START_SH.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));

describe("podLaunch", () => {
  const spec = podLaunch(input());

  it("the agent heartbeats six times a heartbeat timeout, at most every 30 s, and says so in the env", () => {
    expect([heartbeatSeconds(300), heartbeatSeconds(60), heartbeatSeconds(2)]).toEqual([30, 10, 2 / 6]);
    expect(podLaunch({ ...input(), heartbeatSeconds: 10 }).env.TRAINPOD_HEARTBEAT_S).toBe("10");
    expect(spec.env.TRAINPOD_HEARTBEAT_S).toBeUndefined();
  });

  it("puts every secret in the env only, never in the command, the entrypoint or the script", () => {
    expect(spec.env.TRAINPOD_DATASET_URL).toContain(DATASET_TOKEN);
    expect(spec.env.TRAINPOD_RUN_TOKEN).toBe(RUN_TOKEN);
    const script = decode(spec.env.TRAINPOD_START_SCRIPT_B64);
    for (const secret of [DATASET_TOKEN, RUN_TOKEN, spec.env.TRAINPOD_DATASET_URL ?? "unset"]) {
      expect(spec.args).not.toContain(secret);
      expect(script).not.toContain(secret);
      expect(renderStartScript()).not.toContain(secret);
    }
    const holders = Object.entries(spec.env)
      .filter(([, v]) => v.includes(DATASET_TOKEN) || v.includes(RUN_TOKEN))
      .map(([k]) => k)
      .sort();
    expect(holders).toEqual(["TRAINPOD_DATASET_URL", "TRAINPOD_RUN_TOKEN"]);
  });

  it("the user's secrets are env of the pod, named in TRAINPOD_SECRET_NAMES, never shadowing trainpod's own", () => {
    const secrets = { HF_TOKEN: "hf_value", WANDB_API_KEY: "wb_value", TRAINPOD_RUN_TOKEN: "shadow" };
    const launch = podLaunch({ ...input(), secrets });
    expect(launch.env).toMatchObject({
      HF_TOKEN: "hf_value",
      WANDB_API_KEY: "wb_value",
      TRAINPOD_RUN_TOKEN: RUN_TOKEN,
    });
    expect(launch.env.TRAINPOD_SECRET_NAMES).toBe("HF_TOKEN,WANDB_API_KEY,TRAINPOD_RUN_TOKEN");
    expect(launch.args).not.toContain("hf_value");
    expect(spec.env.TRAINPOD_SECRET_NAMES).toBeUndefined();
  });

  it("the command (v2 args, JSON form) is a bootstrap that decodes the script from the env and execs it", () => {
    const args = JSON.parse(spec.args) as { entrypoint: string[]; cmd: string[] };
    expect(args.entrypoint).toEqual(["bash", "-c"]);
    expect(args.cmd).toHaveLength(1);
    expect(args.cmd[0]).toContain("$TRAINPOD_START_SCRIPT_B64");
    expect(args.cmd[0]).toContain("exec bash");
    expect(() => execFileSync("bash", ["-n", "-c", args.cmd[0] ?? ""])).not.toThrow();
  });

  it("carries the run's settings and the agent's URL and sha256 in the env; no trainer source any more", () => {
    expect(spec.env).toMatchObject({
      TRAINPOD_DEPLOYMENT_ID: DEPLOYMENT,
      TRAINPOD_DATASET_SHA256: "a".repeat(64),
      TRAINPOD_EVENTS_URL: `https://api.trainpod.test/v1/runs/${DEPLOYMENT}/events`,
      TRAINPOD_ARTIFACTS_URL: `https://api.trainpod.test/v1/runs/${DEPLOYMENT}/artifacts`,
      TRAINPOD_AGENT_URL: `https://api.trainpod.test/v1/runs/${DEPLOYMENT}/agent`,
      TRAINPOD_AGENT_SHA256: AGENT_SHA256,
      TRAINPOD_BASE_MODEL: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
      TRAINPOD_TRAINER_REQUIREMENTS: TRAINER_REQUIREMENTS,
    });
    expect(JSON.parse(spec.env.TRAINPOD_HYPERPARAMETERS ?? "null")).toEqual({ steps: 10, learning_rate: 0.0002 });
    expect(Object.keys(spec.env).filter((k) => /TRAINER_B64|TRAINER_SOURCE/.test(k))).toEqual([]);
  });

  it("tells the agent the deployment's gpuCount (above 1: one trainer process per GPU), 1 when not given", () => {
    expect(spec.env.TRAINPOD_GPU_COUNT).toBe("1");
    expect(podLaunch({ ...input(), gpuCount: 4 }).env.TRAINPOD_GPU_COUNT).toBe("4");
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

describe("start.sh, the pod's bootstrap", () => {
  it("is TRAINPOD_START_SCRIPT_B64 byte for byte, at most 60 lines, and passes bash -n", () => {
    expect(decode(podLaunch(input()).env.TRAINPOD_START_SCRIPT_B64)).toBe(START_SH);
    expect(renderStartScript()).toBe(START_SH);
    expect(START_SH.endsWith("\n")).toBe(true);
    expect(START_SH.split("\n").length - 1).toBeLessThanOrEqual(60);
    expect(() => execFileSync("bash", ["-n"], { input: START_SH, stdio: ["pipe", "pipe", "pipe"] })).not.toThrow();
  });

  it("is strict, reports a setup failure on any error, checks the agent's sha256 and ends by exec'ing the agent", () => {
    expect(code).toContain("set -Eeuo pipefail");
    expect(code.filter((l) => /^trap .+ ERR$/.test(l))).toEqual([
      `trap 'setup_failed "the bootstrap stopped at line $LINENO"' ERR`,
    ]);
    expect(code.join("\n")).toMatch(/sha256sum -c --status - \|\| setup_failed "agent sha256 mismatch"/);
    expect(code.at(-1)).toBe('exec python "$T/agent.pyz"');
    // the setup failure's report is a fixed JSON text: only setup_failed's own constant argument goes in it
    const calls = code.flatMap((l) => [...l.matchAll(/setup_failed "([^"]*)"/g)].map((m) => m[1]));
    expect(calls).toEqual([
      "the bootstrap stopped at line $LINENO",
      "agent download",
      "agent sha256 mismatch",
      "pip install of the trainer packages",
    ]);
  });

  it("curl gets no secret on its command line: the token and the pod key go through a config on a pipe", () => {
    const text = code.join("\n").replace(/\\\n\s*/g, " ");
    const curls = text.split("\n").filter((l) => /\bcurl -/.test(l));
    expect(curls).toHaveLength(3); // the agent, the setup failure's report, the self-delete
    for (const c of curls)
      expect(c).toMatch(/ -K <\(printf 'header = %s\\n' "\$\(cfg_str "Authorization: Bearer \$\{\w+\}"\)"\)/);
    for (const secret of ["TRAINPOD_RUN_TOKEN", "RUNPOD_API_KEY"]) {
      // every use of the value is quoted into the config; the only other mention is a check that it is set
      const uses = code.map((l) => l.replaceAll(`[ -n "\${${secret}:-}" ]`, "")).filter((l) => l.includes(secret));
      expect(uses.length).toBeGreaterThan(0);
      for (const l of uses) expect(l).toMatch(/\$\(cfg_str "Authorization: Bearer \$\{\w+\}"\)/);
    }
    // the dataset is the agent's: the bootstrap never touches its token URL
    expect(START_SH).not.toContain("TRAINPOD_DATASET_URL");
  });

  it("run with a curl that records its argv and config: no secret in any argv, the token in the config", () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "trainpod-curl-argv-"));
    try {
      const bin = path.join(tmp, "bin");
      mkdirSync(bin);
      // a curl that fails every call after writing down its arguments and the config it was given with -K
      writeFileSync(
        path.join(bin, "curl"),
        [
          "#!/usr/bin/env bash",
          'n=$(ls "$LOGS" | wc -l)',
          'printf "%s\\n" "$@" > "$LOGS/argv.$n"',
          'while [ $# -gt 0 ]; do [ "$1" = -K ] && cat "$2" > "$LOGS/config.$n"; shift; done',
          "exit 22",
        ].join("\n"),
      );
      chmodSync(path.join(bin, "curl"), 0o755);
      const logs = path.join(tmp, "logs");
      mkdirSync(logs);
      const env = podLaunch(input()).env;
      const r = spawnSync("bash", ["-c", START_SH], {
        encoding: "utf8",
        timeout: 20_000,
        env: {
          ...env,
          PATH: `${bin}:${process.env.PATH ?? ""}`,
          LOGS: logs,
          RUNPOD_VOLUME_MOUNT_PATH: tmp,
          RUNPOD_POD_ID: "pod123",
          RUNPOD_API_KEY: POD_KEY,
          TRAINPOD_RUNPOD_API_URL: "http://127.0.0.1:9/v2",
          TRAINPOD_SELF_TERMINATE_GRACE_S: "0",
        },
      });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/Z setup failed: agent download\n/);
      const argvs = readdirSync(logs).filter((f) => f.startsWith("argv."));
      const configs = readdirSync(logs).filter((f) => f.startsWith("config."));
      expect(argvs).toHaveLength(3); // the agent, the report, the self-delete
      for (const f of argvs) {
        const argv = readFileSync(path.join(logs, f), "utf8");
        for (const secret of [RUN_TOKEN, POD_KEY, DATASET_TOKEN]) expect(argv).not.toContain(secret);
      }
      const configText = configs.map((f) => readFileSync(path.join(logs, f), "utf8")).sort();
      expect(configText).toEqual(
        [
          `header = "Authorization: Bearer ${RUN_TOKEN}"\n`,
          `header = "Authorization: Bearer ${RUN_TOKEN}"\n`,
          `header = "Authorization: Bearer ${POD_KEY}"\n`,
        ].sort(),
      );
      expect(r.stdout + r.stderr).not.toContain(RUN_TOKEN);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
