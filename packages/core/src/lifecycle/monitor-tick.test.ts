import type { Deployment } from "../db";
import type { Pod } from "../runpod";
import { judge } from "./monitor-tick";

const t0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const settings = {
  heartbeatTimeoutMs: 60_000,
  stallTimeoutMs: 600_000,
  requeueAfterMs: 60_000,
  terminateSweepAfterMs: 3_000,
  vanishGraceMs: 180_000,
};

function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    status: "RUNNING",
    podId: "p1",
    podCreatedAt: t0,
    provisioningAt: t0,
    runningAt: at(30),
    lastHeartbeatAt: at(30),
    costPerHrMicros: 1_890_000n,
    maxCostMicros: 10_000_000n,
    maxRuntimeMinutes: 60,
    setupTimeoutMinutes: 10,
    ...over,
  } as Deployment;
}
function pod(over: Partial<Pod> = {}): Pod {
  return {
    id: "p1",
    name: "trainpod-x",
    status: "RUNNING",
    cost: 1.89,
    createdAt: t0.toISOString(),
    startedAt: at(20).toISOString(),
    ...over,
  } as Pod;
}

describe("monitor verdicts", () => {
  it("a healthy running pod needs nothing", () => {
    expect(judge(deployment(), pod(), at(60), settings)).toBeNull();
  });
  it("a missing pod is POD_VANISHED", () => {
    expect(judge(deployment(), undefined, at(60), settings)).toMatchObject({ fail: "POD_VANISHED" });
  });
  it("a restarted container without an outcome is TRAINING_FAILED", () => {
    expect(judge(deployment(), pod({ startedAt: at(35).toISOString() }), at(60), settings)).toMatchObject({
      fail: "TRAINING_FAILED",
    });
  });
  it("a short uptime alone is not a restart: it is RunPod's clock against ours (a monitor tick on a moved clock)", () => {
    expect(judge(deployment(), pod({ runtime: { uptime: 5 } }), at(60), settings)).toBeNull();
  });
  it("silence past the heartbeat timeout is HEARTBEAT_TIMEOUT", () => {
    expect(judge(deployment(), pod(), at(91), settings)).toMatchObject({ fail: "HEARTBEAT_TIMEOUT" });
  });
  it("liveness is not progress: a pod that heartbeats through a long silent phase is healthy", () => {
    // a 70B model downloads for 20 minutes: no step, but heartbeats every 30 s
    const d = deployment({ phase: "model_download", phaseStartedAt: at(30), lastHeartbeatAt: at(1_230) });
    expect(judge(d, pod(), at(1_250), settings)).toBeNull();
  });
  it("a trainer alive but with no step for the stall timeout during training is TRAINING_STALLED", () => {
    const d = deployment({ phase: "train", phaseState: "progress", phaseStartedAt: at(100), lastProgressAt: at(200) });
    const alive = { ...d, lastHeartbeatAt: at(800) };
    expect(judge(alive, pod(), at(799), settings)).toBeNull();
    expect(judge(alive, pod(), at(801), settings)).toMatchObject({
      fail: "TRAINING_STALLED",
      message: "no training step for 600 s (the pod is alive: its heartbeats arrive)",
    });
  });
  it("the stall clock starts with the train phase (the first step of a big model comes late), not before", () => {
    const d = deployment({ phase: "train", phaseState: "started", phaseStartedAt: at(1_000), lastProgressAt: null });
    expect(judge({ ...d, lastHeartbeatAt: at(1_590) }, pod(), at(1_599), settings)).toBeNull();
    expect(judge({ ...d, lastHeartbeatAt: at(1_590) }, pod(), at(1_601), settings)).toMatchObject({
      fail: "TRAINING_STALLED",
    });
  });
  it("no stall rule outside training (save and upload of a 140 GB model take long) or when it is off", () => {
    const long = { maxRuntimeMinutes: 600, maxCostMicros: 100_000_000n };
    const saving = deployment({ ...long, phase: "upload", phaseStartedAt: at(100), lastProgressAt: at(100) });
    expect(judge({ ...saving, lastHeartbeatAt: at(5_000) }, pod(), at(5_010), settings)).toBeNull();
    const ended = deployment({ ...long, phase: "train", phaseState: "ended", phaseStartedAt: at(100) });
    expect(judge({ ...ended, lastHeartbeatAt: at(5_000) }, pod(), at(5_010), settings)).toBeNull();
    const training = deployment({ ...long, phase: "train", phaseState: "progress", phaseStartedAt: at(1) });
    const off = { ...settings, stallTimeoutMs: 0 };
    expect(judge({ ...training, lastHeartbeatAt: at(5_000) }, pod(), at(5_010), off)).toBeNull();
  });
  it("setup taking too long is SETUP_TIMEOUT", () => {
    const d = deployment({ status: "PROVISIONING", runningAt: null, lastHeartbeatAt: null });
    expect(judge(d, pod({ status: "STARTING", startedAt: null }), at(601), settings)).toMatchObject({
      fail: "SETUP_TIMEOUT",
    });
  });
  it("running past maxRuntime is MAX_RUNTIME_EXCEEDED", () => {
    expect(judge(deployment({ lastHeartbeatAt: at(3600) }), pod(), at(3601), settings)).toMatchObject({
      fail: "MAX_RUNTIME_EXCEEDED",
    });
  });
  it("cost past the cap is BUDGET_EXCEEDED", () => {
    const d = deployment({ maxCostMicros: 10_000n, lastHeartbeatAt: at(59) });
    expect(judge(d, pod(), at(60), settings)).toMatchObject({ fail: "BUDGET_EXCEEDED" });
  });
  it("a pod RunPod reports ERROR (an image that cannot be pulled) is POD_ERROR", () => {
    expect(judge(deployment(), pod({ status: "ERROR", cost: 0 }), at(60), settings)).toMatchObject({
      fail: "POD_ERROR",
    });
  });
  it("a pod RunPod reports EXITED without an outcome is TRAINING_FAILED", () => {
    expect(judge(deployment(), pod({ status: "EXITED", cost: 0 }), at(60), settings)).toMatchObject({
      fail: "TRAINING_FAILED",
    });
  });
  it("a TERMINATED pod is POD_VANISHED", () => {
    expect(judge(deployment(), pod({ status: "TERMINATED" }), at(60), settings)).toMatchObject({
      fail: "POD_VANISHED",
    });
  });
  it("RUNNING from RunPod does not make a provisioning deployment RUNNING: readiness is the pod's own report", () => {
    const d = deployment({ status: "PROVISIONING", runningAt: null, lastHeartbeatAt: null });
    expect(judge(d, pod(), at(25), settings)).toBeNull();
  });
});

// Issue 23 item 7: a pod created seconds ago could be failed POD_VANISHED. RunPod's spec promises no
// read-after-create consistency (a listing "can lag or miss a pod", and nothing says GET by id cannot),
// so within POD_VANISH_GRACE_SECONDS of its creation a pod that has not reported itself is failed only on
// an answer (TERMINATED), never on being missing; `undefined` below is what the tick passes for a pod the
// listing left out and GET /v2/pods/{id} answered 404 for.
/** A deployment whose pod was created at t0 and has not reported yet. */
const fresh = (over: Partial<Deployment> = {}): Deployment =>
  deployment({ status: "PROVISIONING", runningAt: null, lastHeartbeatAt: null, ...over });

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
