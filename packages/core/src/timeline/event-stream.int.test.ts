import { heldEvent } from "../../../../test/support/held-event";
import { useTestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { ManualClock } from "../time/clock";
import { TimelineCursor } from "./event-stream";

const db = useTestDatabase();
describe("TimelineCursor", () => {
  it("delivers an event that commits after a later-numbered one was read, once; settles old ids", async () => {
    const { user } = await makeUser(db.prisma);
    const ds = await makeDataset(db.prisma, user.id);
    const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id });
    const clock = new ManualClock(Date.now());
    const cursor = new TimelineCursor(db.prisma, d.id, 0n, () => clock.now(), 5_000);

    // a transaction takes an id and holds its commit while a later event commits and is read
    const slow = await heldEvent(db.prisma, d.id, "slow");
    await db.prisma.deploymentEvent.create({ data: { deploymentId: d.id, type: "fast" } });
    expect((await cursor.next(100)).map((e) => e.type)).toEqual(["fast"]);
    await slow.commit();
    expect((await cursor.next(100)).map((e) => e.type)).toEqual(["slow"]);
    expect(await cursor.next(100)).toEqual([]);

    // once they are settleMs old, reads start after them (nothing is delivered twice)
    clock.advance(60_000);
    expect(await cursor.next(100)).toEqual([]);
    await db.prisma.deploymentEvent.create({ data: { deploymentId: d.id, type: "later" } });
    expect((await cursor.next(100)).map((e) => e.type)).toEqual(["later"]);
  });
});
