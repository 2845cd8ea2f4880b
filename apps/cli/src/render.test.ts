import { formatBytes, renderEvent, renderPhase } from "./render";

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
    const stopped = { ...data, stopped_early: 1, steps_saved: 60, seconds_saved: 1800.5, usd_saved: "0.945263" };
    expect(renderEvent({ type: "phase_ended", at, data: stopped })).toEqual([
      "13:25:26 ▸ train ended after 3 s (100 steps), eval loss 1.25, stopped early: 60 steps (~1801 s, $0.945263) saved",
    ]);
  });
});
