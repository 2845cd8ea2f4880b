import type { Deployment } from "../db";
import type { Pod } from "../runpod";
import { judge, type MonitorSettings } from "./monitor-tick";

// Issue 23 item 7: a pod created seconds ago could be failed POD_VANISHED. RunPod's spec promises no
// read-after-create consistency (a listing "can lag or miss a pod", and nothing says GET by id cannot),
// so within POD_VANISH_GRACE_SECONDS of its creation a pod that has not reported itself is failed only on
// an answer (TERMINATED), never on being missing; `undefined` below is what the tick passes for a pod the
// listing left out and GET /v2/pods/{id} answered 404 for.
const t0 = new Date("2026-12-07T10:00:00Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const settings: MonitorSettings = {
  heartbeatTimeoutMs: 60_000,
  stallTimeoutMs: 600_000,
  requeueAfterMs: 60_000,
  terminateSweepAfterMs: 3_000,
  vanishGraceMs: 180_000,
};

/** A deployment whose pod was created at t0 and has not reported yet. */
function fresh(over: Partial<Deployment> = {}): Deployment {
  return {
    status: "PROVISIONING",
    podId: "p1",
    podCreatedAt: t0,
    provisioningAt: t0,
    runningAt: null,
    lastHeartbeatAt: null,
    costPerHrMicros: 1_890_000n,
    maxCostMicros: 10_000_000n,
    maxRuntimeMinutes: 60,
    setupTimeoutMinutes: 10,
    ...over,
  } as Deployment;
}

describe("a just-created pod is never judged vanished on a miss", () => {
  it("missing and 404 by id 30 s after its creation: not failed, judged again next tick", () => {
    expect(judge(fresh(), undefined, at(30), settings)).toBeNull();
    expect(judge(fresh(), undefined, at(179), settings)).toBeNull();
  });

  it("still missing and 404 once the grace has passed: POD_VANISHED", () => {
    expect(judge(fresh(), undefined, at(181), settings)).toMatchObject({ fail: "POD_VANISHED" });
  });

  it("a young pod that has reported itself (RUNNING) and then 404s is gone at once: RunPod knew it", () => {
    const d = fresh({ status: "RUNNING", runningAt: at(20), lastHeartbeatAt: at(25) });
    expect(judge(d, undefined, at(30), settings)).toMatchObject({ fail: "POD_VANISHED" });
  });

  it("a young pod RunPod reports TERMINATED is gone at once: that is an answer, not a miss", () => {
    const pod = { id: "p1", name: "x", status: "TERMINATED", cost: 0, createdAt: t0.toISOString() } as Pod;
    expect(judge(fresh(), pod, at(30), settings)).toMatchObject({ fail: "POD_VANISHED" });
  });

  it("counts from the pod's creation, or from the deploy's start when no creation was recorded", () => {
    const noCreatedAt = fresh({ podCreatedAt: null, provisioningAt: at(100) });
    expect(judge(noCreatedAt, undefined, at(200), settings)).toBeNull();
    expect(judge(noCreatedAt, undefined, at(281), settings)).toMatchObject({ fail: "POD_VANISHED" });
  });

  it("the grace is the setting's; 3 minutes when it is not given", () => {
    expect(judge(fresh(), undefined, at(11), { ...settings, vanishGraceMs: 10_000 })).toMatchObject({
      fail: "POD_VANISHED",
    });
    const { vanishGraceMs: _unset, ...defaults } = settings;
    expect(judge(fresh(), undefined, at(179), defaults)).toBeNull();
    expect(judge(fresh(), undefined, at(181), defaults)).toMatchObject({ fail: "POD_VANISHED" });
  });
});
