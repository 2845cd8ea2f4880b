import { createTestDatabase, type TestDatabase } from "../../../../test/support/test-db";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { ManualClock } from "../time/clock";
import { TimelineCursor } from "./event-stream";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("TimelineCursor", () => {
  it("delivers an event that commits after a later-numbered one was read, once; settles old ids", async () => {
    const { user } = await makeUser(db.prisma);
    const ds = await makeDataset(db.prisma, user.id);
    const d = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id });
    const clock = new ManualClock(Date.now());
    const cursor = new TimelineCursor(db.prisma, d.id, 0n, () => clock.now(), 5_000);

    // a transaction takes an id and holds its commit while a later event commits and is read
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const hasId = new Promise<void>((r) => (inserted = r));
    const slow = db.prisma.$transaction(async (tx) => {
      await tx.deploymentEvent.create({ data: { deploymentId: d.id, type: "slow" } });
      inserted();
      await held;
    });
    await hasId;
    await db.prisma.deploymentEvent.create({ data: { deploymentId: d.id, type: "fast" } });
    expect((await cursor.next(100)).map((e) => e.type)).toEqual(["fast"]);
    release();
    await slow;
    expect((await cursor.next(100)).map((e) => e.type)).toEqual(["slow"]);
    expect(await cursor.next(100)).toEqual([]);

    // once they are settleMs old, reads start after them (nothing is delivered twice)
    clock.advance(60_000);
    expect(await cursor.next(100)).toEqual([]);
    await db.prisma.deploymentEvent.create({ data: { deploymentId: d.id, type: "later" } });
    expect((await cursor.next(100)).map((e) => e.type)).toEqual(["later"]);
  });
});
