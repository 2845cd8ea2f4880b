import { formatBytes, renderDeployment, renderEvent, renderPhase } from "./render";

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [1_048_575, "1.0 MiB"],
    [5 * 1024 ** 3, "5.0 GiB"],
    [3 * 1024 ** 5, "3072.0 TiB"],
  ])("%p bytes → %s", (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe("the phase line of --watch", () => {
  it.each([
    [
      { name: "model_download", state: "progress", done: 3_200_000_000, total: 16_000_000_000, unit: "bytes" },
      "model_download 3.2/16.0 GB",
    ],
    [
      { name: "tokenize", state: "progress", done: 40_000, total: 200_000, unit: "rows" },
      "tokenize 40,000/200,000 rows",
    ],
    [{ name: "upload", state: "progress", done: 512_000, total: null, unit: "bytes" }, "upload 512.0 kB"],
    [{ name: "save", state: "progress", done: 1, total: 3, unit: "files" }, "save 1/3 files"],
    [{ name: "train", state: "progress", done: 40, total: 100, unit: "steps" }, "train 40/100 steps"],
    [{ name: "load", state: "started", done: null, total: null, unit: null }, "load started"],
    [{ name: "install", state: "ended", done: null, total: null, unit: null }, "install ended"],
    [{ name: "model_download", state: "started", done: null, total: 900, unit: "bytes" }, "model_download 0/900 B"],
  ])("%j → %s", (phase, text) => {
    expect(renderPhase(phase)).toBe(text);
  });

  it("phase rows in the timeline: the start with its size, the end with its time", () => {
    const at = "2026-12-01T13:25:26.000Z";
    expect(
      renderEvent({ type: "phase_started", at, data: { phase: "tokenize", total: 200_000, unit: "rows" } }),
    ).toEqual(["13:25:26 ▸ tokenize started (200,000 rows)"]);
    expect(
      renderEvent({
        type: "phase_ended",
        at,
        data: { phase: "model_download", seconds: 90.5, ok: true, done: 16e9, total: 16e9, unit: "bytes" },
      }),
    ).toEqual(["13:25:26 ▸ model_download ended after 90.5 s (16.0 GB)"]);
    expect(renderEvent({ type: "phase_ended", at, data: { phase: "train", seconds: 3, ok: false } })).toEqual([
      "13:25:26 ✗ train failed after 3 s",
    ]);
  });

  it("shows the eval loss of a step and of the adapter saved, and what early stopping saved (issue 26)", () => {
    const at = "2026-12-01T13:25:26.000Z";
    expect(
      renderEvent({ type: "progress", at, data: { step: 40, totalSteps: 100, loss: 1.5, evalLoss: 1.75 } }),
    ).toEqual(["13:25:26 step 40/100 loss 1.5 eval loss 1.75"]);
    const data = { phase: "train", seconds: 3, ok: true, done: 40, total: 100, unit: "steps", eval_loss: 1.25 };
    expect(renderEvent({ type: "phase_ended", at, data })).toEqual([
      "13:25:26 ▸ train ended after 3 s (100 steps), eval loss 1.25",
    ]);
    // DPO (issue 26 item 5): the reward margin of a step and of the run's last step
    expect(renderEvent({ type: "progress", at, data: { step: 7, loss: 0.61, rewardMargin: 0.25 } })).toEqual([
      "13:25:26 step 7 loss 0.61 reward margin 0.25",
    ]);
    expect(renderEvent({ type: "phase_ended", at, data: { ...data, reward_margin: 0.4 } })).toEqual([
      "13:25:26 ▸ train ended after 3 s (100 steps), eval loss 1.25, reward margin 0.4",
    ]);
    const stopped = { ...data, stopped_early: 1, steps_saved: 60, seconds_saved: 1800.5, usd_saved: "0.945263" };
    expect(renderEvent({ type: "phase_ended", at, data: stopped })).toEqual([
      "13:25:26 ▸ train ended after 3 s (100 steps), eval loss 1.25, stopped early: 60 steps (~1801 s, $0.945263) saved",
    ]);
  });
});

describe("the hub push and the W&B run (issue 25)", () => {
  const base = { id: "d1", status: "SUCCEEDED", baseModel: "m", gpuCount: 1, gpuTypeIds: ["A"], limits: {} };
  it("status prints the repo with its commit or its error, and the W&B run", () => {
    const pushed = renderDeployment({
      ...base,
      hub: { repo: "alice/lora", merged: true, url: "https://hf.co/alice/lora/commit/ab", error: null },
      wandb: { project: "runs", name: "try", url: "https://wandb.ai/a/runs/runs/x" },
    }).split("\n");
    expect(pushed.slice(-2)).toEqual([
      "  hub alice/lora (merged too): https://hf.co/alice/lora/commit/ab",
      "  W&B runs/try: https://wandb.ai/a/runs/runs/x",
    ]);
    const failed = renderDeployment({ ...base, hub: { repo: "a/b", merged: false, url: null, error: "HTTP 401" } });
    expect(failed.split("\n").at(-1)).toBe("  hub a/b: HTTP 401");
    expect(renderDeployment({ ...base, hub: null, wandb: null })).not.toMatch(/hub|W&B/);
  });

  it("the timeline shows the push and the W&B run", () => {
    const at = "2026-01-01T13:25:26.000Z";
    expect(renderEvent({ type: "hub_push", at, data: { url: "https://hf.co/c" } })).toEqual([
      "13:25:26 ● pushed to the hub: https://hf.co/c",
    ]);
    expect(renderEvent({ type: "hub_push", at, message: "hub push to a/b failed: HTTP 500", data: {} })).toEqual([
      "13:25:26 ✗ hub push to a/b failed: HTTP 500",
    ]);
    expect(renderEvent({ type: "wandb", at, data: { url: "https://wandb.ai/x" } })).toEqual([
      "13:25:26 ● W&B run: https://wandb.ai/x",
    ]);
  });
});
