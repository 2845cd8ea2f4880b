import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { startSystem, type System } from "../support/system";
import { TestClient } from "./support/client";

// Issue 25 item 4 on the simulator: a deployment with `hub` pushes its output, once stored in trainpod, to the user's
// repo on a local fake hub (pod-agent/tests/fake_hub.py, a Python process), with the user's HF_TOKEN secret; the
// pods' python is the trainer venv's (huggingface_hub), the ML simulated. HF_ENDPOINT reaches the pod through the
// worker's launch (a test seam, so the API's model pre-flight, which HF_ENDPOINT also turns on, stays off here).
const REPO = path.join(__dirname, "..", "..");
const venvPython = process.env.TRAINER_PYTHON || path.join(REPO, ".venv-trainer", "bin", "python");
const hasHub = existsSync(venvPython) && spawnSync(venvPython, ["-c", "import huggingface_hub"]).status === 0;
const HF_TOKEN = "hf_e2e_write_token_0123456789abcdef";

let sys: System;
let alice: TestClient;
let hub: ChildProcess;
let hubUrl: string;

async function startFakeHub(): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(venvPython, [path.join(REPO, "pod-agent", "tests", "fake_hub.py"), HF_TOKEN], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = await new Promise<string[]>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once("line", (l) => resolve([l]));
    proc.once("exit", (code) => reject(new Error(`fake_hub.py exited with ${code}`)));
  });
  return { proc, url: line!.trim() };
}

const held = async (repo: string) => (await fetch(`${hubUrl}/_fake/repos/${repo}`)).json() as Promise<Json>;
type Json = Record<string, unknown>;

if (!hasHub) {
  it.skip(`SKIPPED: ${venvPython} has no huggingface_hub (scripts/trainer-venv.sh)`, () => undefined);
} else {
  beforeAll(async () => {
    ({ proc: hub, url: hubUrl } = await startFakeHub());
    sys = await startSystem({ simEnv: { SIM_POD_PATH_PREPEND: path.dirname(venvPython) } });
    alice = await TestClient.create(sys, "alice@example.com");
    const build = sys.deps.lifecycle.buildLaunch;
    sys.deps.lifecycle.buildLaunch = async (d) => {
      const launch = await build(d);
      return { ...launch, env: { HF_ENDPOINT: hubUrl, ...launch.env } };
    };
  }, 120_000);

  afterAll(async () => {
    await sys?.stop();
    hub?.kill();
  });

  it("pushes the adapter and the merged weights to the user's repo and records the commit; the token is in no log", async () => {
    const secret = await alice.api("POST", "/v1/secrets", { name: "HF_TOKEN", value: HF_TOKEN });
    expect([200, 201]).toContain(secret.status);
    const hp = { steps: 3, sim_step_ms: 20, sim_output_shards: 2, sim_shard_bytes: 4000, merge_adapter: true };
    const sub = await alice.submit(hp, { secrets: ["HF_TOKEN"], hub: { repo: "alice/tiny-lora", merged: true } });
    expect(sub.status).toBe(202);
    const d = await alice.settled(sub.body.id as string, 60_000);
    expect(d.status).toBe("SUCCEEDED");
    const pushed = d.hub as { repo: string; merged: boolean; url: string | null; error: string | null };
    expect(pushed).toMatchObject({ repo: "alice/tiny-lora", merged: true, error: null });
    expect(pushed.url).toMatch(new RegExp(`^${hubUrl}/alice/tiny-lora/commit/[0-9a-f]{40}$`));
    expect(Object.keys(await held("alice/tiny-lora")).sort()).toEqual([
      "adapter_config.json",
      "adapter_model.safetensors",
      "merged/model-00001-of-00002.safetensors",
      "merged/model-00002-of-00002.safetensors",
      "merged/model.safetensors.index.json",
      "trainer_state.json",
    ]);
    const types = (d.events as Array<{ type: string }>).map((e) => e.type);
    expect(types.indexOf("hub_push")).toBeGreaterThan(types.lastIndexOf("phase_ended"));
    expect(types.indexOf("hub_push")).toBeLessThan(types.indexOf("succeeded"));
    const stored = await sys.db.prisma.deploymentEvent.findMany({ where: { deploymentId: d.id as string } });
    const row = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id as string } });
    const big = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
    const everything = [JSON.stringify(stored, big), JSON.stringify(row, big), JSON.stringify(d), ...sys.logs];
    expect(stored.some((e) => e.type === "log")).toBe(true);
    expect(everything.join("\n")).not.toContain(HF_TOKEN);
  }, 90_000);

  it("a repo the token cannot write to: the run still succeeds, the error names the missing write access", async () => {
    await alice.api("POST", "/v1/secrets", { name: "HF_TOKEN", value: "hf_readonly_token_abcdef0123456789" });
    const sub = await alice.submit(
      { steps: 2, sim_step_ms: 20 },
      { secrets: ["HF_TOKEN"], hub: { repo: "alice/other", merged: false } },
    );
    expect(sub.status).toBe(202);
    const d = await alice.settled(sub.body.id as string, 60_000);
    expect(d.status).toBe("SUCCEEDED");
    expect(d.hub).toMatchObject({ url: null, error: expect.stringContaining("lacks write access to alice/other") });
    expect((await fetch(`${hubUrl}/_fake/repos/alice/other`)).status).toBe(404);
  }, 90_000);
}
