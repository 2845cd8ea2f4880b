import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSystem, type System } from "../support/system";
import { TestClient } from "./support/client";

// Issue 15: the real trainer (train.py, the pinned libraries, a tiny Llama built here) in a simulator pod, through
// the real start script: the sim puts the trainer venv's bin first on the pod's PATH (SIM_POD_PATH_PREPEND).
const REPO = path.join(__dirname, "..", "..");
const venvPython = process.env.TRAINER_PYTHON || path.join(REPO, ".venv-trainer", "bin", "python");
const hasVenv =
  existsSync(venvPython) && spawnSync(venvPython, ["-c", "import torch, transformers, peft, trl"]).status === 0;

let sys: System;
let alice: TestClient;
let work: string;
let model: string;

if (!hasVenv && !process.env.TRAINER_PYTHON) {
  it.skip(`SKIPPED: the trainer venv (${venvPython}) is missing, so the real trainer was not run in a pod: run scripts/trainer-venv.sh`, () =>
    undefined);
} else {
  beforeAll(async () => {
    if (!hasVenv)
      throw new Error(
        `TRAINER_PYTHON=${venvPython} is missing or lacks the trainer's libraries: run scripts/trainer-venv.sh`,
      );
    work = mkdtempSync(path.join(os.tmpdir(), "trainpod-real-trainer-"));
    model = path.join(work, "tiny-llama");
    const built = spawnSync(venvPython, [path.join(REPO, "pod-agent", "tests", "tiny_model.py"), model], {
      encoding: "utf8",
      timeout: 120_000,
    });
    if (built.status !== 0) throw new Error(`tiny_model.py failed: ${built.stderr}`);
    // the pod's python is the venv's (realpath: a venv's python is found through its bin folder on PATH)
    // real ML (SIM_ML=real: no TRAINPOD_ML=simulated in the pod's env), and the venv's python first on the pod's PATH
    sys = await startSystem({ simEnv: { SIM_POD_PATH_PREPEND: path.dirname(venvPython), SIM_ML: "real" } });
    alice = await TestClient.create(sys, "alice@example.com");
  }, 180_000);

  afterAll(async () => {
    await sys?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("trains the tiny model for real in a pod: dataset fetched with its token, artifacts uploaded, SUCCEEDED, cost recorded", async () => {
    // merged weights in shards of 50 KiB: the tiny model's ~0.25 MB become several files, each its own upload
    const hp = {
      steps: 6,
      batch_size: 2,
      gradient_accumulation_steps: 1,
      max_seq_length: 128,
      learning_rate: 0.005,
      merge_adapter: true,
      max_shard_size_mb: 0.05,
    };
    const sub = await alice.submit(hp, { baseModel: model });
    expect(sub.status).toBe(202);
    const d = await alice.settled(sub.body.id, 150_000);
    const events = d.events as Array<{ type: string; data?: Record<string, unknown> }>;
    if (d.status !== "SUCCEEDED")
      throw new Error(`deployment ${d.status}: ${d.failureMessage}\n${JSON.stringify(events.slice(-5), null, 1)}`);
    expect(d.progress.step).toBe(6);
    expect(Number(d.progress.loss)).toBeGreaterThan(0);
    // the started report carries the library versions the pod really used
    const stored = await sys.db.prisma.deploymentEvent.findMany({ where: { deploymentId: d.id } });
    const withPackages = stored.filter((e) => JSON.stringify(e.data ?? null).includes("trl 1.16.0"));
    expect(withPackages.map((e) => e.type)).toContain("running");
    const tokens = await sys.db.prisma.datasetDownloadToken.findMany({ where: { deploymentId: d.id } });
    expect(tokens.map((t) => t.usedAt !== null)).toEqual([true]);
    const uploaded = readdirSync(path.join(sys.config.env.ARTIFACT_DIR, d.id));
    expect(uploaded).toEqual(
      expect.arrayContaining(["adapter_config.json", "adapter_model.safetensors", "tokenizer.json"]),
    );
    const shards = readdirSync(path.join(sys.config.env.ARTIFACT_DIR, d.id, "merged")).filter((f) =>
      /^model-\d{5}-of-\d{5}\.safetensors$/.test(f),
    );
    expect(shards.length).toBeGreaterThan(1);
    // the uploaded shards load back as one model, and it generates
    const load = spawnSync(
      venvPython,
      [
        "-c",
        "import sys; from transformers import AutoModelForCausalLM as M, AutoTokenizer as T; d=sys.argv[1]; " +
          "m=M.from_pretrained(d); t=T.from_pretrained(d); print(len(m.generate(**t('hi', return_tensors='pt'), max_new_tokens=3)[0]))",
        path.join(sys.config.env.ARTIFACT_DIR, d.id, "merged"),
      ],
      { encoding: "utf8", timeout: 120_000, env: { ...process.env, HF_HUB_OFFLINE: "1" } },
    );
    if (load.status !== 0) throw new Error(`the merged shards did not load back:\n${load.stderr.slice(-2000)}`);
    expect(Number(load.stdout.trim())).toBeGreaterThan(0);
    expect(Number(d.costUsd)).toBeGreaterThan(0);
  }, 180_000);
}
