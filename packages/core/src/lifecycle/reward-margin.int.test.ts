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

  it("a margin that is not a finite number is refused at the API's door", () => {
    expect(runEventSchema.safeParse({ type: "progress", step: 1, rewardMargin: "0.1" }).success).toBe(false);
    expect(runEventSchema.safeParse({ type: "progress", step: 1, rewardMargin: 0.1 }).success).toBe(true);
  });
});
