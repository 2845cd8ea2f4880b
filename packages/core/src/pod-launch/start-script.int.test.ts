import { readFileSync } from "node:fs";
import path from "node:path";
import { selfTerminatedWith, timeline, type PodOptions } from "../../../../test/support/agent-pods";
import { DATASET, ISO_LINE, sha256 } from "../../../../test/support/fake-run-api";
import { useAgentPods } from "../../../../test/support/agent-pod-suite";

// The real bootstrap (start.sh) and the real agent it fetches (pod-agent/), run by the RunPod simulator as real
// processes (bash, curl, sha256sum, python3; only the ML work simulated, TRAINPOD_ML=simulated) against a small
// HTTP server standing in for the trainpod API (test/support/fake-run-api.ts): a run that trains, one whose trainer
// fails, and what the log carries. The transfers' failures: start-script-transfers.int.test.ts.

const CHAT_DATASET = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n';
const WEIRD_MODEL = 'org/model "quoted" back\\slash\\ tab\there ctrl\x01end';
// a log far over the pipe buffer (64 KB) before it is shipped, and one line over the API's 4000 chars: the agent
// logs "trainpod run <deployment id> on pod ..." (an id no trainer sees)
const LONG_ID = [
  "dep-long",
  ...Array.from({ length: 400 }, (_, i) => `${String(i).padStart(4, "0")} ${"y".repeat(245)}`),
  "x".repeat(6000),
].join("\n");
/** the dead-man switch on, a 1 s grace: no worker ever deletes these pods, each deletes itself after its outcome */
const POD: PodOptions = {
  selfTerminate: { graceSeconds: 1, maxRuntimeSeconds: 3600, unreachableSeconds: 900 },
  heartbeatSeconds: 0.5,
};
const SUCCESS_TIMELINE = [
  ...["started", "setup:started", "setup:ended"],
  ...["dataset_download:started", "dataset_download:ended", "dataset_downloaded"],
  ...["model_download:started", "model_download:ended", "load:started", "load:ended"],
  ...["tokenize:started", "tokenize:ended", "train:started", "progress", "progress", "progress", "train:ended"],
  ...["save:started", "save:ended", "upload:started", "upload:ended", "completed"],
];

const { outcome } = useAgentPods(POD, (launch) => {
  launch("success", { dataset: (n) => (n === 1 ? "500" : "ok") });
  launch(
    "trainfail",
    {},
    {
      hyperparameters: { steps: 5, sim_step_ms: 20, sim_fail_at_step: 2, sim_exit_code: 3, checkpoint_every_steps: 0 },
    },
  );
  launch("weird", { data: CHAT_DATASET }, { baseModel: WEIRD_MODEL });
  launch("long", {}, { deploymentId: LONG_ID });
});

describe("start.sh and the pod agent on a (simulated) RunPod pod", () => {
  it("success: downloads (retrying a 500), verifies, trains, uploads with the run token, reports in order", async () => {
    const { pod, r, lines } = await outcome("success");
    expect(selfTerminatedWith(pod, r, 1)).toBe(0);
    expect(r.datasetRequests).toBe(2); // the first answered 500; the agent tried again
    expect(timeline(r)).toEqual(SUCCESS_TIMELINE);
    expect(r.events.filter((e) => e.type === "progress").map((e) => [e.step, e.totalSteps])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    // the log's last batch right before completed; after it only the self-termination line (heartbeats aside)
    expect(
      r.events
        .filter((e) => e.type !== "heartbeat")
        .map((e) => e.type)
        .slice(-3),
    ).toEqual(["log", "completed", "log"]);
    expect(r.events.filter((e) => e.type === "heartbeat").length).toBeGreaterThan(0); // from the pod's first second
    expect(r.events.find((e) => e.type === "dataset_downloaded")).toMatchObject({ bytes: Buffer.byteLength(DATASET) });
    expect(r.events.find((e) => e.type === "started")).toMatchObject({
      system: { gpu: expect.stringContaining("RTX 4090"), podId: r.podId, packages: expect.any(String) },
    });
    // artifacts: every file the trainer wrote, PUT with the bearer token, byte for byte
    expect([...r.artifacts.keys()].sort()).toEqual([
      "adapter_config.json",
      "adapter_model.safetensors",
      "trainer_state.json",
    ]);
    for (const [rel, a] of r.artifacts) {
      expect(a.auth).toBe(`Bearer ${r.runToken}`);
      expect(a.sha256).toBe(sha256(readFileSync(path.join(pod.workDir, "fine_tuned_model", rel))));
    }
    // the shipped log: timestamped lines, every phase in it, no secret
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).toMatch(ISO_LINE);
    const text = lines.join("\n");
    expect(text).toMatch(/ dataset download: HTTP 500; retry 1\/5 in 1 s\n/);
    expect(text).toMatch(/sha256 verified/);
    expect(text).toMatch(/step 3\/3/);
    expect(text).toMatch(/uploaded adapter_model\.safetensors/);
    expect(text).not.toContain(r.datasetToken);
    expect(text).not.toContain(r.runToken);
  });

  it("failing training: reports failed with the trainer's exit code, phase train and the traceback; no completed", async () => {
    const { pod, r, failed, outcomes } = await outcome("trainfail");
    expect(selfTerminatedWith(pod, r, 1)).toBe(3);
    expect(outcomes).toEqual(["failed"]);
    expect(failed).toMatchObject({
      exitCode: 3,
      phase: "train",
      cause: "out_of_memory",
      message: "training exited with code 3",
    });
    const lines = failed?.lines ?? [];
    expect(lines.some((l) => l.includes("Traceback (most recent call last):"))).toBe(true);
    expect(lines.some((l) => l.includes("OutOfMemoryError"))).toBe(true);
    for (const l of lines) expect(l).toMatch(ISO_LINE);
    // the train phase ended not ok, and nothing after it but the outcome: no save, no upload
    expect(timeline(r).slice(-4)).toEqual(["train:started", "progress", "train:failed", "failed"]);
    expect(r.events.filter((e) => e.type === "progress").map((e) => e.step)).toEqual([1]);
    expect(r.uploadRequests).toBe(0);
    expect(r.artifacts.size).toBe(0);
  });

  it("log lines with quotes, backslashes, tabs and control characters arrive as valid JSON", async () => {
    const { pod, r, lines, outcomes } = await outcome("weird");
    expect(selfTerminatedWith(pod, r, 1)).toBe(0);
    expect(outcomes).toEqual(["completed"]);
    // the agent logs "training <base model>": quotes, backslashes and the tab intact, the control character dropped
    const expected = `training ${WEIRD_MODEL.replace("\x01", "")}`;
    expect(lines.some((l) => l.endsWith(expected))).toBe(true);
    for (const l of lines) expect(l).not.toMatch(/[\x00-\x08\x0b-\x1f]/); // eslint-disable-line no-control-regex
    expect(lines.some((l) => / dataset: 1 rows \(chat\); base model org\/model "quoted"/.test(l))).toBe(true);
  });

  it("a long log (over 64 KB unshipped, a line over 4000 chars) is shipped whole, in events the API accepts", async () => {
    const { pod, r, lines, failed, outcomes } = await outcome("long");
    expect(failed).toBeUndefined();
    expect(selfTerminatedWith(pod, r, 1)).toBe(0);
    expect(outcomes).toEqual(["completed"]);
    // every line once, in order: none lost, none shipped twice; at most 100 lines an event
    const numbered = lines.map((l) => / (\d{4}) y+$/.exec(l)?.[1]).filter((n) => n !== undefined);
    expect(numbered).toEqual(Array.from({ length: 400 }, (_, i) => String(i).padStart(4, "0")));
    for (const e of r.events) expect((e.lines ?? []).length).toBeLessThanOrEqual(100);
    expect(lines.some((l) => l.endsWith("uploaded adapter_model.safetensors"))).toBe(true);
    // the 6000-char line arrives cut, within the API's limit for a line
    const cut = lines.filter((l) => /^\S+ x+\.\.\.$/.test(l));
    expect(cut).toHaveLength(1);
    expect(cut[0]?.length).toBeLessThanOrEqual(1100);
    for (const l of lines) expect(l).toMatch(ISO_LINE);
  });
});
