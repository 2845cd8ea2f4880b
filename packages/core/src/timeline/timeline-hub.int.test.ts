import { heldEvent } from "../../../../test/support/held-event";
import { useTestDatabase } from "../../../../test/support/test-db";
import { until } from "../../../../test/support/until";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import type { Deployment, DeploymentEvent, PrismaClient } from "../db";
import { ManualClock } from "../time/clock";
import { recordEvent, transition } from "../deployment/state-machine";
import { TimelineHub, type TimelineListener } from "./timeline-hub";

const db = useTestDatabase();
let datasetId: string;
let userId: string;
beforeAll(async () => {
  userId = (await makeUser(db.prisma)).user.id;
  datasetId = (await makeDataset(db.prisma, userId)).id;
});
/** The real client, with its $queryRaw calls counted (every call still goes to Postgres). */
function counted(prisma: PrismaClient): { prisma: PrismaClient; raw: () => number } {
  let raw = 0;
  const proxy = new Proxy(prisma, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key !== "$queryRaw" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        raw += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { prisma: proxy, raw: () => raw };
}

function recorder(): TimelineListener & { types: string[]; ended: Deployment | null; failed: unknown } {
  const r = {
    types: [] as string[],
    ended: null as Deployment | null,
    failed: undefined as unknown,
    events: (events: DeploymentEvent[]) => void r.types.push(...events.map((e) => e.type)),
    end: (d: Deployment) => void (r.ended = d),
    error: (err: unknown) => void (r.failed = err),
  };
  return r;
}

const live = () => makeDeployment(db.prisma, { userId, datasetId }, { status: "RUNNING" });

describe("TimelineHub", () => {
  it("serves many streams with one events query per read, each from its own cursor, and ends a finished one", async () => {
    const [a, b] = [await live(), await live()];
    await recordEvent(db.prisma, a.id, { type: "a1" });
    const a1 = await db.prisma.deploymentEvent.findFirstOrThrow({ where: { deploymentId: a.id } });
    await recordEvent(db.prisma, a.id, { type: "a2" });
    await recordEvent(db.prisma, b.id, { type: "b1" });
    const spy = counted(db.prisma);
    const hub = new TimelineHub(spy.prisma, () => new Date(), { pollMs: 20 });
    const fromStart = recorder();
    const resumed = recorder();
    const other = recorder();
    const stops = [
      hub.subscribe(a.id, 0n, fromStart),
      hub.subscribe(a.id, a1.id, resumed),
      hub.subscribe(b.id, 0n, other),
    ];
    await until(
      "replays",
      async () => fromStart.types.length === 2 && resumed.types.length === 1 && other.types.length === 1,
    );
    await recordEvent(db.prisma, b.id, { type: "b2" });
    await recordEvent(db.prisma, a.id, { type: "a3" });
    await until(
      "new events",
      async () => other.types.length === 2 && fromStart.types.length === 3 && resumed.types.length === 2,
    );
    expect(fromStart.types).toEqual(["a1", "a2", "a3"]);
    expect(resumed.types).toEqual(["a2", "a3"]);
    expect(other.types).toEqual(["b1", "b2"]);
    // three streams, yet each read was one events query
    expect(spy.raw()).toBe(hub.reads);
    expect(hub.reads).toBeGreaterThan(1);

    await transition(db.prisma, { deploymentId: b.id, to: "SUCCEEDED", event: { type: "succeeded" } });
    await until("b ends", async () => other.ended !== null);
    expect(other.types).toEqual(["b1", "b2", "succeeded"]);
    expect(other.ended?.status).toBe("SUCCEEDED");
    expect(hub.size).toBe(2);

    stops[0]?.();
    await recordEvent(db.prisma, a.id, { type: "a4" });
    await until("a4", async () => resumed.types.includes("a4"));
    expect(fromStart.types).toEqual(["a1", "a2", "a3"]);
    stops.forEach((stop) => stop());
    expect(hub.size).toBe(0);
  });

  it("keeps a cancelled deployment's stream open while a create it tried may have made a pod (its cost comes later)", async () => {
    const d = await makeDeployment(db.prisma, { userId, datasetId }, { status: "QUEUED", podRequestedAt: new Date() });
    const hub = new TimelineHub(db.prisma, () => new Date(), { pollMs: 20 });
    const r = recorder();
    const stop = hub.subscribe(d.id, 0n, r);
    await transition(db.prisma, { deploymentId: d.id, to: "CANCELLED", event: { type: "cancelled" } });
    await until("cancelled delivered", async () => r.types.includes("cancelled"));
    const reads = hub.reads;
    await until("ended, or two more reads", async () => r.ended !== null || hub.reads >= reads + 2);
    // no pod recorded, but the create's answer (or the orphan found by reconcile) may still bring one
    expect(r.ended).toBeNull();
    await recordEvent(db.prisma, d.id, { type: "late_pod" });
    await db.prisma.deployment.update({
      where: { id: d.id },
      data: { podId: "late-pod", podTerminatedAt: new Date(), costMicros: 958n },
    });
    await until("ends", async () => r.ended !== null);
    expect(r.types).toEqual(["cancelled", "late_pod"]);
    expect(r.ended?.costMicros).toBe(958n);
    stop();
  });

  it("delivers an event that commits after a later one was delivered, once", async () => {
    const d = await live();
    const clock = new ManualClock(Date.now());
    const hub = new TimelineHub(db.prisma, () => clock.now(), { pollMs: 20 });
    const r = recorder();
    const stop = hub.subscribe(d.id, 0n, r);
    const slow = await heldEvent(db.prisma, d.id, "slow");
    await recordEvent(db.prisma, d.id, { type: "fast" });
    await until("fast", async () => r.types.includes("fast"));
    await slow.commit();
    await until("slow", async () => r.types.includes("slow"));
    const reads = hub.reads;
    await until("two more reads", async () => hub.reads >= reads + 2);
    expect(r.types).toEqual(["fast", "slow"]);
    stop();
  });

  it("close() ends every stream with an error (the server is shutting down)", async () => {
    const d = await live();
    const hub = new TimelineHub(db.prisma, () => new Date(), { pollMs: 20 });
    const [r1, r2] = [recorder(), recorder()];
    hub.subscribe(d.id, 0n, r1);
    hub.subscribe(d.id, 0n, r2);
    hub.close();
    expect([r1.failed, r2.failed]).toEqual([
      expect.objectContaining({ retryable: true }),
      expect.objectContaining({ retryable: true }),
    ]);
    expect(hub.size).toBe(0);
  });

  it("ends a stream with an error when its deployment is gone", async () => {
    const d = await live();
    const hub = new TimelineHub(db.prisma, () => new Date(), { pollMs: 20 });
    const r = recorder();
    hub.subscribe(d.id, 0n, r);
    await db.prisma.deployment.delete({ where: { id: d.id } });
    await until("error", async () => r.failed !== undefined);
    expect(r.failed).toMatchObject({ code: "NOT_FOUND" });
    expect(hub.size).toBe(0);
  });
});
