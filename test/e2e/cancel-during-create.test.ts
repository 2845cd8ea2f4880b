/**
 * Issue 34, finding 1: a cancel while the deployment's create is still out must not free its slot before its pod is
 * known gone. With a slot limit of 1 per user, d1's create is held by the simulator (a slow answer), d2 waits
 * behind it, and d1 is cancelled meanwhile: d1's late pod must be deleted before d2's pod is created. The proof is
 * the simulator's own pod records (/admin/pods), trial after trial. And when RunPod refuses the late pod's DELETE,
 * it is retried like any terminate job, with reconcile's orphan sweep switched off.
 */
import { startSystem, type System } from "../support/system";
import { TestClient, until, type Json } from "./support/client";

const TRIALS = Number(process.env.CANCEL_RACE_TRIALS ?? 20);
/** trials run side by side, one user each (the simulator's slow answers are switched on and off per batch) */
const BATCH = 5;
/** how long the simulator holds each create while the slow fault is on */
const SLOW_CREATE_MS = 1500;

let sys: System;

beforeAll(async () => {
  sys = await startSystem({
    // reconcile's orphan sweep would hide a late pod nobody deletes: out of the way
    env: { USER_MAX_LIVE_DEPLOYMENTS: "1", MONITOR_INTERVAL_MS: "200", RECONCILE_INTERVAL_MS: "3600000" },
  });
}, 60_000);
afterAll(async () => sys?.stop());

async function simFaults(faults: Json): Promise<void> {
  const res = await sys.sim.admin("/admin/config", {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ faults }),
  });
  if (res.status !== 200) throw new Error(`sim config: ${res.status} ${await res.text()}`);
}
const NO_FAULTS = { slow: 0, serverError: 0, methods: [], routes: [] };
const SLOW_CREATES = { slow: 1, slowMs: SLOW_CREATE_MS, methods: ["POST"], routes: ["/v2/pods"] };

const slowAnswers = async () =>
  ((await (await sys.sim.admin("/admin/stats")).json()) as { faults: { slow: number } }).faults.slow;

interface SimPod {
  id: string;
  name: string;
  status: string;
  createdAt: string;
  terminatedAt: string | null;
}
const simPods = async () => (await (await sys.sim.admin("/admin/pods")).json()) as SimPod[];
const podsOf = (pods: SimPod[], deploymentId: string) =>
  pods.filter((p) => p.name === `${sys.config.env.POD_NAME_PREFIX}${deploymentId}`);

/** Pods of one user that existed at the same time: each pod must be created after the previous one was deleted. */
function overlaps(pods: SimPod[]): string[] {
  const sorted = [...pods].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const found: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1]!;
    const after = sorted[i]!;
    const gone = before.terminatedAt === null ? Infinity : Date.parse(before.terminatedAt);
    if (Date.parse(after.createdAt) < gone)
      found.push(`${after.name} created ${after.createdAt} while ${before.name} lived until ${before.terminatedAt}`);
  }
  return found;
}

describe("a cancel during a slow create (slot limit 1)", () => {
  it(
    `never two pods of one user at once: ${TRIALS} trials, checked against the simulator's own pod records`,
    async () => {
      const report: string[] = [];
      let lateCreates = 0;
      for (let first = 0; first < TRIALS; first += BATCH) {
        const n = Math.min(BATCH, TRIALS - first);
        const users = await Promise.all(
          Array.from({ length: n }, (_, i) => TestClient.create(sys, `race-${first + i}@example.com`)),
        );
        const slowBefore = await slowAnswers();
        await simFaults(SLOW_CREATES);
        const d1 = await Promise.all(
          users.map(async (u) => (await u.submit({ steps: 1 }, { maxCostUsd: "1" })).body.id),
        );
        // every d1's create is now held by the simulator; d2's creates are answered at once
        await until("d1 creates held", async () => (await slowAnswers()) >= slowBefore + n, 20_000, 20);
        await simFaults(NO_FAULTS);
        const d2 = await Promise.all(
          users.map(async (u) => (await u.submit({ steps: 20, sim_step_ms: 100 }, { maxCostUsd: "1" })).body.id),
        );
        const cancels = await Promise.all(users.map((u, i) => u.api("POST", `/v1/deployments/${d1[i]}/cancel`)));
        expect(cancels.map((c) => c.status)).toEqual(users.map(() => 202));
        const settled = await Promise.all(
          users.flatMap((u, i) => [u.settled(d1[i]!, 60_000), u.settled(d2[i]!, 60_000)]),
        );
        expect(settled.map((d) => d.status)).toEqual(users.flatMap(() => ["CANCELLED", "SUCCEEDED"]));
        const pods = await simPods();
        users.forEach((_, i) => {
          const late = podsOf(pods, d1[i]!);
          lateCreates += late.length;
          report.push(...overlaps([...late, ...podsOf(pods, d2[i]!)]));
          // d1's late pod is deleted and recorded on d1, with its cost
          expect(late.map((p) => p.status)).toEqual(late.map(() => "TERMINATED"));
        });
        for (const id of d1) {
          const row = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } });
          const pod = podsOf(pods, id)[0];
          expect([row.status, row.podId, row.podTerminatedAt !== null]).toEqual(["CANCELLED", pod?.id ?? null, true]);
        }
      }
      expect(report).toEqual([]);
      // the race really ran: the held creates made their pods after the cancels
      expect(lateCreates).toBe(TRIALS);
    },
    60_000 + TRIALS * 15_000,
  );

  it("the late pod's DELETE refused by RunPod is retried until it lands (no orphan sweep)", async () => {
    const user = await TestClient.create(sys, "late-delete@example.com");
    const slowBefore = await slowAnswers();
    await simFaults(SLOW_CREATES);
    const id = (await user.submit({ steps: 1 }, { maxCostUsd: "1" })).body.id as string;
    await until("create held", async () => (await slowAnswers()) > slowBefore, 20_000, 20);
    await simFaults({ ...NO_FAULTS, serverError: 1, methods: ["DELETE"], routes: ["/v2/pods/{id}"] });
    try {
      expect((await user.api("POST", `/v1/deployments/${id}/cancel`)).status).toBe(202);
      const pod = await until("late pod created", async () => podsOf(await simPods(), id)[0], 20_000);
      // every DELETE fails for a while: the pod stays, and so does the deployment's hold on it
      await new Promise((r) => setTimeout(r, 3000));
      expect((await user.simPod(pod.id)).status).not.toBe("TERMINATED");
      expect(await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).toMatchObject({
        podId: pod.id,
        podTerminatedAt: null,
      });
    } finally {
      await simFaults(NO_FAULTS);
    }
    const d = await user.settled(id, 60_000);
    expect((await user.simPod(d.pod.id)).status).toBe("TERMINATED");
  }, 90_000);
});
