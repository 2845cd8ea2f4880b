import { deploymentView } from "../deployment/view";
import { phaseTimes } from "../deployment/phase-view";
import { useRunEventFixture } from "../../../../test/support/run-event-fixture";
import { recordRunEvent } from "./record-run-event";

const { db, clock, deps, deployment, row, events } = useRunEventFixture();
const running = () => deployment("RUNNING");

describe("heartbeat", () => {
  it("updates lastHeartbeatAt and nothing else: no event row", async () => {
    const id = await running();
    clock.advance(1_000);
    await recordRunEvent(deps(), id, { type: "heartbeat", seq: 7 });
    const d = await row(id);
    expect(d.lastHeartbeatAt).toEqual(clock.now());
    expect(d.phase).toBeNull();
    expect(await events(id)).toEqual([]);
  });
});

describe("phases", () => {
  it("started, progress, ended: the columns follow, one row for the start and one for the end", async () => {
    const id = await running();
    const startedAt = clock.now();
    await recordRunEvent(deps(), id, {
      type: "phase",
      phase: "model_download",
      state: "started",
      total: 16_000_000_000,
      unit: "bytes",
    });
    expect(await row(id)).toMatchObject({
      phase: "model_download",
      phaseState: "started",
      phaseStartedAt: startedAt,
      phaseDone: null,
      phaseTotal: 16_000_000_000n,
      phaseUnit: "bytes",
      lastHeartbeatAt: startedAt,
    });

    clock.advance(30_000);
    for (const done of [1_000_000_000, 3_200_000_000])
      await recordRunEvent(deps(), id, { type: "phase", phase: "model_download", state: "progress", done });
    // progress: the columns and the heartbeat, no row; the phase's start stays
    expect(await row(id)).toMatchObject({
      phaseState: "progress",
      phaseStartedAt: startedAt,
      phaseDone: 3_200_000_000n,
      phaseTotal: 16_000_000_000n,
      phaseUnit: "bytes",
      lastHeartbeatAt: clock.now(),
    });
    expect((await events(id)).map((e) => e.type)).toEqual(["phase_started"]);

    clock.advance(60_500);
    await recordRunEvent(deps(), id, {
      type: "phase",
      phase: "model_download",
      state: "ended",
      done: 16_000_000_000,
      ok: true,
      files: 3,
    });
    expect(await row(id)).toMatchObject({ phaseState: "ended", phaseStartedAt: startedAt, phaseDone: 16_000_000_000n });
    // the pod said no seconds: the time since the phase's start, from our clock
    expect(await events(id)).toEqual([
      { type: "phase_started", data: { phase: "model_download", total: 16_000_000_000, unit: "bytes" } },
      {
        type: "phase_ended",
        data: {
          phase: "model_download",
          done: 16_000_000_000,
          total: 16_000_000_000,
          unit: "bytes",
          ok: true,
          files: 3,
          seconds: 90.5,
        },
      },
    ]);
  });

  it("the view shows the current phase and the time spent in each ended phase (the pod's seconds first)", async () => {
    const id = await running();
    await recordRunEvent(deps(), id, { type: "phase", phase: "setup", state: "started" });
    clock.advance(4_000);
    await recordRunEvent(deps(), id, { type: "phase", phase: "setup", state: "ended", seconds: 3.25, ok: true });
    const tokenizeStart = clock.now();
    await recordRunEvent(deps(), id, {
      type: "phase",
      phase: "tokenize",
      state: "started",
      total: 200_000,
      unit: "rows",
    });
    clock.advance(2_000);
    await recordRunEvent(deps(), id, { type: "phase", phase: "tokenize", state: "progress", done: 40_000 });

    const d = await row(id);
    expect(deploymentView(d, clock.now()).phase).toEqual({
      name: "tokenize",
      state: "progress",
      done: 40_000,
      total: 200_000,
      unit: "rows",
      startedAt: tokenizeStart,
    });
    expect(await phaseTimes(db.prisma, id)).toEqual([{ name: "setup", seconds: 3.25, ok: true }]);
  });

  it("a phase's progress or end without its start (lost) starts the phase there", async () => {
    const id = await running();
    await recordRunEvent(deps(), id, { type: "phase", phase: "install", state: "started" });
    clock.advance(5_000);
    await recordRunEvent(deps(), id, {
      type: "phase",
      phase: "load",
      state: "progress",
      done: 1,
      total: 2,
      unit: "files",
    });
    expect(await row(id)).toMatchObject({
      phase: "load",
      phaseState: "progress",
      phaseStartedAt: clock.now(),
      phaseDone: 1n,
      phaseTotal: 2n,
      phaseUnit: "files",
    });
    // done/total/unit of the previous phase never leak into the next one
    await recordRunEvent(deps(), id, { type: "phase", phase: "save", state: "ended" });
    expect(await row(id)).toMatchObject({ phase: "save", phaseDone: null, phaseTotal: null, phaseUnit: null });
    expect((await events(id)).at(-1)).toEqual({ type: "phase_ended", data: { phase: "save", seconds: 0 } });
  });

  it("an early-stopped train phase's seconds saved are priced at the pod's rate (issue 26)", async () => {
    const id = await deployment("RUNNING", { costPerHrMicros: 1_890_000n });
    await recordRunEvent(deps(), id, { type: "phase", phase: "train", state: "started", unit: "steps" });
    const facts = { eval_loss: 1.25, stopped_early: 1, steps_saved: 600, seconds_saved: 1800.5, best_step: 350 };
    await recordRunEvent(deps(), id, { type: "phase", phase: "train", state: "ended", done: 400, ok: true, ...facts });
    const [train] = await phaseTimes(db.prisma, id);
    // 1800.5 s at $1.89/h = $0.94526...
    expect(train).toMatchObject({ name: "train", done: 400, ...facts, usd_saved: "0.945263" });
    // a run that did not stop early, or a pod without a price: no money saved
    const unpriced = await running();
    await recordRunEvent(deps(), unpriced, { type: "phase", phase: "train", state: "ended", seconds_saved: 10 });
    await recordRunEvent(deps(), id, { type: "phase", phase: "save", state: "ended", files: 3 });
    expect((await phaseTimes(db.prisma, unpriced))[0]).not.toHaveProperty("usd_saved");
    expect((await phaseTimes(db.prisma, id))[1]).not.toHaveProperty("usd_saved");
  });

  it("an evaluated step keeps its row with its eval loss, past the first 100 steps too (issue 26)", async () => {
    const id = await running();
    await recordRunEvent(deps(), id, { type: "progress", step: 1, totalSteps: 90_000, loss: 2.5 });
    await recordRunEvent(deps(), id, { type: "progress", step: 501, totalSteps: 90_000, loss: 1.5 });
    await recordRunEvent(deps(), id, { type: "progress", step: 502, totalSteps: 90_000, loss: 1.5, evalLoss: 1.75 });
    expect((await events(id)).filter((e) => e.type === "progress").map((e) => e.data)).toEqual([
      { step: 1, totalSteps: 90_000, loss: 2.5 },
      { step: 502, totalSteps: 90_000, loss: 1.5, evalLoss: 1.75 },
    ]);
  });

  it("the view of a deployment with no phase says null", async () => {
    const d = await row(await running());
    expect(deploymentView(d, clock.now()).phase).toBeNull();
  });
});

describe("failed", () => {
  it("takes the new phases and a cause, kept in the event and the failure message; the reason keeps its mapping", async () => {
    const download = await running();
    await recordRunEvent(deps(), download, {
      type: "failed",
      phase: "dataset_download",
      cause: "dataset_download",
      message: "sha256 mismatch",
    });
    expect(await row(download)).toMatchObject({ status: "FAILED", failureReason: "DATASET_DOWNLOAD_FAILED" });

    const tokenize = await running();
    await recordRunEvent(deps(), tokenize, {
      type: "failed",
      phase: "tokenize",
      cause: "bad_input",
      exitCode: 2,
      lines: ["row 7: no assistant message"],
    });
    const d = await row(tokenize);
    expect(d).toMatchObject({ status: "FAILED", failureReason: "TRAINING_FAILED", exitCode: 2 });
    expect(d.failureMessage?.split("\n")).toEqual([
      "tokenize failed with exit code 2 (cause: bad_input)",
      "row 7: no assistant message",
    ]);
    const failed = await db.prisma.deploymentEvent.findFirstOrThrow({
      where: { deploymentId: tokenize, type: "failed" },
    });
    expect(failed.data).toMatchObject({
      reason: "TRAINING_FAILED",
      phase: "tokenize",
      cause: "bad_input",
      exitCode: 2,
    });
  });
});
