import { RunPodRestClient } from "@trainpod/core";
import { startSystem, type System } from "../support/system";
import { TestClient, until, type Json } from "./support/client";

/**
 * Issue 27 on the simulator, end to end: the pod of a run with autoResume vanishes mid-run (deleted behind
 * trainpod's back, as a lost host), the monitor fails it POD_VANISHED, and once its termination is recorded a second
 * attempt starts from its last checkpoint (stored as artifacts by the real agent, downloaded by the next pod with its
 * own run token) and finishes the run. Never two pods live at once; both attempts' costs recorded apart; the resumed
 * attempt costs less than the same run started afresh.
 */
let sys: System;
let user: TestClient;

const HP = { steps: 40, sim_step_ms: 250, checkpoint_every_steps: 10 };

beforeAll(async () => {
  sys = await startSystem({ env: { MONITOR_INTERVAL_MS: "300", POD_VANISH_GRACE_SECONDS: "1" } });
  user = await TestClient.create(sys, "resume@example.com");
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

/** Samples the simulator's live pods (not TERMINATED) every 100 ms until stopped; the most seen at once. */
function livePodSampler() {
  let most = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const pods = (await (await sys.sim.admin("/admin/pods")).json()) as Json[];
      most = Math.max(most, pods.filter((p) => p.status !== "TERMINATED").length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop(): Promise<number> {
      running = false;
      await done;
      return most;
    },
  };
}

const costMicros = async (id: string) =>
  (await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).costMicros ?? -1n;

describe("resume from the last checkpoint", () => {
  it("a vanished pod's run is resumed automatically from its checkpoint and finishes, one pod at a time", async () => {
    const live = livePodSampler();
    const sub = await user.submit(HP, { autoResume: { maxAttempts: 3 } });
    expect(sub.status).toBe(202);
    expect(sub.body.resume).toMatchObject({ attempt: 1, resumeOfId: null, autoResumeMaxAttempts: 3 });
    const first = sub.body.id as string;

    // the checkpoint of step 20 stored (its manifest too), training past it: the pod is lost
    const running = await until(
      "checkpoint 20 stored",
      async () => {
        const d = await user.get(first);
        const cps = (await user.api("GET", `/v1/deployments/${first}/checkpoints`)).body.items as Json[];
        return cps.some((c) => c.step === 20) && d.progress.step >= 22 ? d : null;
      },
      30_000,
    );
    const runpod = new RunPodRestClient({ baseUrl: sys.sim.apiUrl, apiKey: "k" });
    await runpod.terminatePod(running.pod.id);

    const lost = await user.settled(first);
    expect(lost).toMatchObject({ status: "FAILED", failureReason: "POD_VANISHED" });
    const cps = (await user.api("GET", `/v1/deployments/${first}/checkpoints`)).body.items as Json[];
    // the last 2 kept (checkpoints_kept's default): 10 was pruned once 30 was complete, or 10 and 20 remain
    expect(cps.length).toBeLessThanOrEqual(2);
    const last = cps.at(-1)!;

    const next = await until("the resumed attempt", () =>
      sys.db.prisma.deployment.findFirst({ where: { resumeOfId: first } }),
    );
    const done = await user.settled(next.id, 60_000);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.resume).toMatchObject({
      attempt: 2,
      resumeOfId: first,
      resumedFromStep: last.step,
      resumedFromPath: last.path,
    });
    expect(done.progress.step).toBe(40);
    // the step count continues: the second attempt trained only the steps after its checkpoint
    const steps = done.events.filter((e: Json) => e.type === "progress").map((e: Json) => e.data.step as number);
    expect(Math.min(...steps)).toBe(last.step + 1);
    const log = await (await sys.sim.admin(`/admin/pods/${done.pod.id}/logs`)).text();
    expect(log).toMatch(new RegExp(`resuming from .*checkpoint-${last.step}`));

    expect(await live.stop()).toBe(1);

    // each attempt's cost recorded apart, summed in the view, with what resuming saved
    const [lostCost, resumedCost] = [await costMicros(first), await costMicros(next.id)];
    expect(lostCost).toBeGreaterThan(0n);
    expect(resumedCost).toBeGreaterThan(0n);
    const view = await user.get(next.id);
    expect(view.resume.attempts.map((a: Json) => [a.attempt, a.id, a.status])).toEqual([
      [1, first, "FAILED"],
      [2, next.id, "SUCCEEDED"],
    ]);
    const usd = (m: bigint) => Number(m) / 1e6;
    expect(Number(view.resume.totalCostUsd)).toBeCloseTo(usd(lostCost + resumedCost), 6);
    expect(Number(view.resume.savedUsd)).toBeGreaterThan(0);
    expect((await user.get(first)).resume.attempts).toHaveLength(2);

    // the same run afresh trains twice as long as the resumed attempt (the steps before the checkpoint are not run
    // again). Compared by the train phase, not by cost: a pod's start on this shared machine varies by several
    // seconds, as much as the 5 s the resumed attempt saves (a CI run saw 7 s and 11 s for the same attempt)
    const fresh = await user.submit(HP);
    const freshDone = await user.settled(fresh.body.id, 60_000);
    expect(freshDone.status).toBe("SUCCEEDED");
    const freshCost = await costMicros(fresh.body.id);
    const trainSeconds = (d: Json) => (d.phases as Json[]).find((p) => p.name === "train")?.seconds as number;
    const [resumedTrain, freshTrain] = [trainSeconds(done), trainSeconds(freshDone)];
    process.stdout.write(
      `resume: lost attempt $${usd(lostCost)}, resumed attempt from step ${last.step} $${usd(resumedCost)} ` +
        `(trained ${resumedTrain} s), a fresh run $${usd(freshCost)} (trained ${freshTrain} s); saved (view) $${view.resume.savedUsd}\n`,
    );
    expect(resumedTrain).toBeGreaterThan(0);
    expect(resumedTrain).toBeLessThan(freshTrain * 0.75);
  }, 120_000);

  it("a run that is live, or ended without a checkpoint, cannot be resumed (409, nothing written)", async () => {
    const sub = await user.submit({
      steps: 3,
      sim_step_ms: 1,
      sim_fail_at_step: 2,
      sim_exit_code: 2,
      checkpoint_every_steps: 0,
    });
    const early = await user.api("POST", `/v1/deployments/${sub.body.id}/resume`);
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(/only an ended deployment|pod is still being terminated/);
    const failed = await user.settled(sub.body.id);
    expect(failed.failureReason).toBe("TRAINING_FAILED");
    const none = await user.api("POST", `/v1/deployments/${sub.body.id}/resume`);
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/no checkpoint to resume from/);
    expect(await sys.db.prisma.deployment.count({ where: { resumeOfId: sub.body.id } })).toBe(0);
  });
});
