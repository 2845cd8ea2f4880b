import { useRunEventFixture } from "../../../../test/support/run-event-fixture";
import { recordRunEvent } from "./record-run-event";

const { db, clock, deps, deployment, row, events } = useRunEventFixture();
const types = async (id: string) => (await events(id)).map((e) => e.type);

describe("seq: a repeated event is acknowledged and not applied again", () => {
  it("each kind of event, sent twice with the same seq, is applied once; the highest seq is kept", async () => {
    const id = await deployment("PROVISIONING");
    const sent = [
      { type: "started", seq: 1, system: { gpu: "A40" } },
      { type: "phase", seq: 2, phase: "dataset_download", state: "started" },
      { type: "dataset_downloaded", seq: 3, bytes: 10 },
      { type: "phase", seq: 4, phase: "dataset_download", state: "ended", seconds: 1 },
      { type: "log", seq: 5, lines: ["hello"] },
      { type: "progress", seq: 6, step: 1, totalSteps: 10 },
    ];
    for (const ev of sent) {
      expect(await recordRunEvent(deps(), id, ev)).toEqual({ applied: true });
      expect(await recordRunEvent(deps(), id, ev)).toEqual({ applied: false });
    }
    expect(await types(id)).toEqual([
      "running",
      "phase_started",
      "dataset_downloaded",
      "phase_ended",
      "log",
      "progress",
    ]);
    expect((await row(id)).lastEventSeq).toBe(6);
  });

  it("an older event arriving late changes nothing (the columns never go back)", async () => {
    const id = await deployment("RUNNING");
    await recordRunEvent(deps(), id, { type: "progress", seq: 10, step: 5, totalSteps: 10 });
    await recordRunEvent(deps(), id, { type: "progress", seq: 11, step: 6, totalSteps: 10 });
    await recordRunEvent(deps(), id, { type: "phase", seq: 12, phase: "train", state: "progress", done: 6 });
    expect(await recordRunEvent(deps(), id, { type: "progress", seq: 10, step: 5 })).toEqual({ applied: false });
    expect(
      await recordRunEvent(deps(), id, { type: "phase", seq: 9, phase: "train", state: "progress", done: 4 }),
    ).toEqual({ applied: false });
    expect(await row(id)).toMatchObject({ progressStep: 6, phaseDone: 6n, lastEventSeq: 12 });
  });

  it("events without seq (old pods) are all applied", async () => {
    const id = await deployment("RUNNING");
    await recordRunEvent(deps(), id, { type: "log", lines: ["a"] });
    await recordRunEvent(deps(), id, { type: "log", lines: ["a"] });
    expect(await types(id)).toEqual(["log", "log"]);
    expect((await row(id)).lastEventSeq).toBeNull();
  });

  it("a heartbeat neither is dropped nor moves the seq (it is sent beside the other events, from its own loop)", async () => {
    const id = await deployment("RUNNING");
    await recordRunEvent(deps(), id, { type: "log", seq: 3, lines: ["a"] });
    clock.advance(30_000);
    expect(await recordRunEvent(deps(), id, { type: "heartbeat", seq: 2 })).toEqual({ applied: true });
    expect(await recordRunEvent(deps(), id, { type: "heartbeat", seq: 9 })).toEqual({ applied: true });
    expect(await row(id)).toMatchObject({ lastHeartbeatAt: clock.now(), lastEventSeq: 3 });
    // the main loop's next event (seq 4) is still applied
    expect(await recordRunEvent(deps(), id, { type: "log", seq: 4, lines: ["b"] })).toEqual({ applied: true });
  });

  it("an outcome is applied whatever its seq (a restarted pod's counter), and only once (the state machine)", async () => {
    const id = await deployment("RUNNING");
    await recordRunEvent(deps(), id, { type: "log", seq: 50, lines: ["a"] });
    await recordRunEvent(deps(), id, { type: "failed", seq: 1, phase: "train", cause: "out_of_memory", exitCode: 3 });
    await recordRunEvent(deps(), id, { type: "failed", seq: 1, phase: "train", cause: "out_of_memory", exitCode: 3 });
    expect(await row(id)).toMatchObject({ status: "FAILED", failureReason: "TRAINING_FAILED" });
    expect((await types(id)).filter((t) => t === "failed")).toHaveLength(1);
  });
});

describe("progress rows are downsampled; the deployment's columns get every step", () => {
  const rows = (id: string) =>
    db.prisma.deploymentEvent.findMany({ where: { deploymentId: id, type: "progress" }, orderBy: { id: "asc" } });

  it("10,000 steps keep at most ~1,100 rows: every one of the first 100, then one per N, and the last", async () => {
    const id = await deployment("RUNNING");
    for (let step = 1; step <= 10_000; step++) {
      await recordRunEvent(deps(), id, { type: "progress", seq: step, step, totalSteps: 10_000, loss: 1 / step });
      if (step === 5_000) expect((await row(id)).progressStep).toBe(5_000);
    }
    const kept = (await rows(id)).map((e) => (e.data as { step: number }).step);
    expect(kept.length).toBeLessThanOrEqual(1_100);
    expect(kept).toHaveLength(926);
    expect(kept.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(kept.slice(100, -1).every((step) => step % 12 === 0)).toBe(true);
    expect(kept.at(-1)).toBe(10_000);
    expect(await row(id)).toMatchObject({ progressStep: 10_000, progressTotalSteps: 10_000, lastEventSeq: 10_000 });
  }, 120_000);

  it("a run that stops between two kept steps keeps its last step's row (written with the outcome)", async () => {
    const id = await deployment("RUNNING");
    for (let step = 1; step <= 5_437; step += step < 100 ? 1 : 1_000)
      await recordRunEvent(deps(), id, { type: "progress", step, totalSteps: 10_000, loss: 0.5 });
    await recordRunEvent(deps(), id, { type: "progress", step: 5_437, totalSteps: 10_000, loss: 0.25 });
    await recordRunEvent(deps(), id, { type: "failed", phase: "train", exitCode: 1 });
    const last = (await rows(id)).at(-1);
    expect(last?.data).toEqual({ step: 5_437, totalSteps: 10_000, loss: 0.25 });
    expect((await types(id)).slice(-2)).toEqual(["progress", "failed"]);
    // a run whose last step was kept gets no second row
    const id2 = await deployment("RUNNING");
    await recordRunEvent(deps(), id2, { type: "progress", step: 3, totalSteps: 10 });
    await recordRunEvent(deps(), id2, { type: "completed" });
    expect(await types(id2)).toEqual(["progress", "succeeded"]);
  });
});
