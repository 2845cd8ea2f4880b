import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createUserWithKey } from "@trainpod/core";
import { startSystem, type System } from "../support/system";
import { CHAT_DATASET, until } from "./support/client";

const BIN = path.resolve(__dirname, "../../apps/cli/bin/trainpod.js");

let sys: System;
let key: string;
let dir: string;
let datasetId: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as its own process (the bin that `npx trainpod` runs), stdin closed, no terminal. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", HOME: dir, TRAINPOD_CONFIG_DIR: path.join(dir, "config"), ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}
const withKey = (extra: Record<string, string> = {}) => ({ TRAINPOD_API_URL: sys.apiUrl, TRAINPOD_API_KEY: key, ...extra });
const deploymentCount = () => sys.db.prisma.deployment.count();

beforeAll(async () => {
  sys = await startSystem();
  key = (await createUserWithKey(sys.db.prisma, { email: "cli@example.com", role: "USER" })).key;
  dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-cli-"));
  writeFileSync(path.join(dir, "chat.jsonl"), `${CHAT_DATASET}\n`);
}, 60_000);

afterAll(async () => {
  await sys?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the trainpod CLI against the running system and simulator", () => {
  it("login checks the key and stores it readable by its owner only", async () => {
    const bad = await cli(["login", "--api-url", sys.apiUrl, "--key", "tp_live_wrong"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/UNAUTHORIZED/);
    const ok = await cli(["login", "--api-url", sys.apiUrl, "--key", key]);
    expect(ok.code).toBe(0);
    const file = path.join(dir, "config", "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ apiUrl: sys.apiUrl, apiKey: key });
  });

  it("datasets upload streams the file (with the stored login) and prints the dataset", async () => {
    const up = await cli(["datasets", "upload", path.join(dir, "chat.jsonl"), "--name", "chat", "--json"]);
    expect(up.code).toBe(0);
    const ds = JSON.parse(up.stdout);
    expect(ds).toMatchObject({ name: "chat", format: "chat", rowCount: 2 });
    expect(up.stderr).toMatch(/uploading chat: \d+\/\d+ bytes/);
    datasetId = ds.id;
    expect(await sys.db.prisma.dataset.count({ where: { id: datasetId } })).toBe(1);
  });

  it("deploy --yes prints the estimate and submits; watch follows it and exits 0 when it SUCCEEDED", async () => {
    const dep = await cli(["deploy", "--yes", "--dataset", datasetId, "--model", "tiny-llama", "--gpu", "NVIDIA GeForce RTX 4090", "--hp", "steps=3", "--hp", "sim_step_ms=50", "--max-cost", "2", "--max-runtime", "60", "--expected-runtime", "10"], withKey());
    expect(dep.code).toBe(0);
    // $0.69/h: 10 expected minutes = $0.115; 60 minutes at worst = $0.69, under the $2 cap
    expect(dep.stdout).toMatch(/expected: {3}\$0\.115 /);
    expect(dep.stdout).toMatch(/worst case: \$0\.69 /);
    expect(dep.stdout).toMatch(/cost cap: {3}\$2\.00 enforced, max runtime 60 min; maxRuntimeMinutes binds first/);
    const id = /deployment ([0-9a-f-]{36}) QUEUED/.exec(dep.stdout)?.[1] ?? "";
    const w = await cli(["watch", id], withKey());
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/● pod \S+ created/);
    expect(w.stdout).toMatch(/step 3\/3 loss/);
    expect(w.stdout).toMatch(/│ .*Training complete/);
    expect(w.stdout).toMatch(/✓ training completed/);
    expect(w.stdout).toMatch(new RegExp(`${id} {2}SUCCEEDED`));
    const st = await cli(["status", id, "--json"], withKey());
    expect(JSON.parse(st.stdout).status).toBe("SUCCEEDED");
  });

  it("a failing run (from a YAML file) makes deploy --watch exit 3 with the failure shown", async () => {
    const file = path.join(dir, "run.yaml");
    writeFileSync(file, `datasetId: ${datasetId}\nbaseModel: tiny-llama\ngpuTypeIds:\n  - NVIDIA A40\nhyperparameters:\n  steps: 5\n  sim_step_ms: 50\n  sim_fail_at_step: 2\n  sim_exit_code: 3\n`);
    const run = await cli(["deploy", "-f", file, "--yes", "--watch"], withKey());
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/✗ failed: TRAINING_FAILED/);
    expect(run.stdout).toMatch(/FAILED \(TRAINING_FAILED\)/);
  });

  it("a cancelled run makes watch exit 4", async () => {
    const dep = await cli(["deploy", "--yes", "--json", "--dataset", datasetId, "--model", "m", "--gpu", "NVIDIA A40", "--hp", "steps=500", "--hp", "sim_step_ms=100"], withKey());
    const id = JSON.parse(dep.stdout).deployment.id as string;
    await until("running", async () => (await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).status === "RUNNING");
    const [w, c] = await Promise.all([cli(["watch", id], withKey()), cli(["cancel", id], withKey())]);
    expect(c.code).toBe(0);
    expect(w.code).toBe(4);
  });

  it("deploy lists every pre-flight problem, exits 1 and creates nothing; without --yes and a terminal it does not deploy", async () => {
    const before = await deploymentCount();
    const bad = await cli(["deploy", "--yes", "--dataset", datasetId, "--model", "m", "--gpu", "NVIDIA GTX 9999", "--image", "", "--max-cost", "0.000001"], withKey());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/PREFLIGHT_FAILED/);
    expect(bad.stderr).toMatch(/- UNKNOWN_GPU_TYPE \[gpuTypeIds\.0\]/);
    expect(bad.stderr).toMatch(/- IMAGE_MISSING/);
    const unconfirmed = await cli(["deploy", "--dataset", datasetId, "--model", "m", "--gpu", "NVIDIA A40"], withKey());
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/not confirmed.*--yes/);
    expect(await deploymentCount()).toBe(before);
    expect((await cli(["deploy", "--yes", "--model", "m"], withKey())).code).toBe(2);
  });

  it("list shows the runs; bad usage exits 2; an unknown id exits 1", async () => {
    const l = await cli(["list"], withKey());
    expect(l.code).toBe(0);
    expect(l.stdout.split("\n").filter((line) => /SUCCEEDED|FAILED|CANCELLED/.test(line))).toHaveLength(3);
    expect((await cli(["frobnicate"], withKey())).code).toBe(2);
    expect((await cli(["watch", "00000000-0000-4000-8000-000000000000"], withKey())).code).toBe(1);
  });
});
