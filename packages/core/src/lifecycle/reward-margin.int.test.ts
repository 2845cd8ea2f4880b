import { progressHistory } from "../deployment/progress-history";
import { runEventSchema } from "./run-event-schema";
import { useRunEventFixture } from "../../../../test/support/run-event-fixture";
import { recordRunEvent } from "./record-run-event";

const { db, deps, deployment, events } = useRunEventFixture();

describe("DPO's reward margin in progress (issue 26 item 5)", () => {
  it("the pod's rewardMargin is kept in the step's row and in the run's loss history", async () => {
    const id = await deployment("RUNNING");
    for (const [step, loss, rewardMargin] of [
      [1, 0.6931, 0],
      [2, 0.65, 0.12],
    ] as const)
      await recordRunEvent(
        deps(),
        id,
        runEventSchema.parse({ type: "progress", step, totalSteps: 2, loss, rewardMargin }),
      );
    await recordRunEvent(deps(), id, { type: "progress", step: 3, totalSteps: 3, loss: 1.5 });
    expect((await events(id)).filter((e) => e.type === "progress").map((e) => e.data)).toEqual([
      { step: 1, totalSteps: 2, loss: 0.6931, rewardMargin: 0 },
      { step: 2, totalSteps: 2, loss: 0.65, rewardMargin: 0.12 },
      { step: 3, totalSteps: 3, loss: 1.5 },
    ]);
    const points = await progressHistory(db.prisma, id);
    expect(points.map((p) => p.rewardMargin)).toEqual([0, 0.12, undefined]);
  });

  it("the step's learning rate and gradient norm (the pod's learning_rate, grad_norm) are kept for the run page's chart", async () => {
    const id = await deployment("RUNNING");
    const ev = { type: "progress", step: 1, totalSteps: 2, loss: 2.5, learning_rate: 0.0002, grad_norm: 1.25 };
    await recordRunEvent(deps(), id, runEventSchema.parse(ev));
    expect((await events(id)).filter((e) => e.type === "progress").map((e) => e.data)).toEqual([
      { step: 1, totalSteps: 2, loss: 2.5, learningRate: 0.0002, gradNorm: 1.25 },
    ]);
    expect((await progressHistory(db.prisma, id)).map((p) => p.learningRate)).toEqual([0.0002]);
    expect(runEventSchema.safeParse({ ...ev, learning_rate: -1 }).success).toBe(false);
  });

  it("a margin that is not a finite number is refused at the API's door", () => {
    expect(runEventSchema.safeParse({ type: "progress", step: 1, rewardMargin: "0.1" }).success).toBe(false);
    expect(runEventSchema.safeParse({ type: "progress", step: 1, rewardMargin: 0.1 }).success).toBe(true);
  });
});
