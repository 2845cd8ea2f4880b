import { selfTerminatedWith, timeline, type PodOptions } from "../../../../test/support/agent-pods";
import { DATASET } from "../../../../test/support/fake-run-api";
import { useAgentPods } from "../../../../test/support/agent-pod-suite";

// The real bootstrap (start.sh) and the real agent (pod-agent/) in the RunPod simulator's pods, as in
// start-script.int.test.ts: the dataset's and the artifacts' transfers when the other side misbehaves. A failure
// the agent meets itself (not the trainer's) is reported with exit code 1, its phase and its cause.

/** the dead-man switch on, a 1 s grace: no worker ever deletes these pods, each deletes itself after its outcome */
const POD: PodOptions = {
  selfTerminate: { graceSeconds: 1, maxRuntimeSeconds: 3600, unreachableSeconds: 900 },
  heartbeatSeconds: 0.5,
};
const UNTIL_DOWNLOAD = ["started", "setup:started", "setup:ended", "dataset_download:started"];

const { outcome } = useAgentPods(POD, (launch) => {
  launch("shamismatch", {}, { sha256: "0".repeat(64), selfTerminate: null });
  launch("always500", { dataset: () => "500" });
  launch("tokenused", { dataset: () => "token-used" });
  launch("broken", { dataset: (n) => (n === 1 ? "broken" : "ok") });
  launch("uploadforbidden", { uploadForbidden: true });
});

describe("the pod agent's transfers on a (simulated) RunPod pod", () => {
  it("sha256 mismatch: reports failed in phase dataset_download and never trains (dead-man switch off: the agent exits)", async () => {
    const { pod, r, lines, failed } = await outcome("shamismatch");
    expect(pod).toMatchObject({ status: "EXITED", lastExitCode: 1 });
    expect(lines.filter((l) => l.includes("dead-man switch off"))).toEqual([
      expect.stringMatching(/ dead-man switch off: missing TRAINPOD_RUNPOD_API_URL$/),
    ]);
    expect(lines.join("\n")).not.toMatch(/self-terminating/);
    expect(failed).toMatchObject({ phase: "dataset_download", cause: "dataset_download", exitCode: 1 });
    expect(failed?.message).toMatch(/^dataset sha256 mismatch: expected 0{64}, received [0-9a-f]{64} \(\d+ bytes\)/);
    expect(timeline(r)).toEqual([...UNTIL_DOWNLOAD, "dataset_download:failed", "failed"]);
    expect([...lines, ...(failed?.lines ?? [])].join("\n")).not.toMatch(/training|step \d/);
    expect(r.artifacts.size).toBe(0);
  });

  it("a dataset server that always answers 500: retried 5 times, then failed in phase dataset_download", async () => {
    const { pod, r, lines, failed } = await outcome("always500");
    expect(r.datasetRequests).toBe(6); // the first try and 5 retries
    expect(selfTerminatedWith(pod, r, 1)).toBe(1);
    expect(failed).toMatchObject({
      phase: "dataset_download",
      cause: "dataset_download",
      exitCode: 1,
      message: "dataset download failed: HTTP 500 (6 attempts)",
    });
    expect(lines.filter((l) => / dataset download: HTTP 500; retry [1-5]\/5 in 1 s$/.test(l))).toHaveLength(5);
    expect((failed?.lines ?? []).join("\n")).toMatch(/500/);
    expect(timeline(r)).toEqual([...UNTIL_DOWNLOAD, "dataset_download:failed", "failed"]);
    // liveness is not progress: the heartbeats went on through the 5 s of retries
    const download = r.events.slice(r.events.findIndex((e) => e.phase === "dataset_download"));
    const beforeOutcome = download.slice(
      0,
      download.findIndex((e) => e.type === "failed"),
    );
    expect(beforeOutcome.filter((e) => e.type === "heartbeat").length).toBeGreaterThanOrEqual(4);
  });

  it("a spent dataset token (401 TOKEN_USED) is requested once, and the failure names the status and the code", async () => {
    const { pod, r, failed } = await outcome("tokenused");
    expect(r.datasetRequests).toBe(1); // a 401 is no reason to try again: no GPU time spent on retries
    expect(selfTerminatedWith(pod, r, 1)).toBe(1);
    expect(failed).toMatchObject({
      phase: "dataset_download",
      cause: "dataset_download",
      exitCode: 1,
      message: "dataset download failed: HTTP 401 TOKEN_USED (not retried)",
    });
    expect(timeline(r)).toEqual([...UNTIL_DOWNLOAD, "dataset_download:failed", "failed"]);
  });

  it("a dataset transfer broken mid-way is retried (a connection error), then the run goes on", async () => {
    const { pod, r, failed, outcomes, lines } = await outcome("broken");
    expect(r.datasetRequests).toBe(2);
    expect(failed).toBeUndefined();
    expect(outcomes).toEqual(["completed"]);
    expect(selfTerminatedWith(pod, r, 1)).toBe(0);
    expect(lines).toContainEqual(
      expect.stringMatching(/ dataset download: transfer broken after .*; retry 1\/5 in 1 s$/),
    );
    expect(r.events.find((e) => e.type === "dataset_downloaded")).toMatchObject({ bytes: Buffer.byteLength(DATASET) });
    expect(r.artifacts.size).toBe(3);
  });

  it("an artifact upload answered 403 stops at once: failed in phase upload, with the status and the API's code", async () => {
    const { pod, r, failed, outcomes } = await outcome("uploadforbidden");
    expect(r.uploadRequests).toBe(1);
    expect(outcomes).toEqual(["failed"]);
    expect(failed).toMatchObject({ phase: "upload", cause: "upload", exitCode: 1 });
    expect(failed?.message).toMatch(/upload of \S+ failed: HTTP 403 FORBIDDEN \(not retried\)$/);
    expect(timeline(r).slice(-3)).toEqual(["upload:started", "upload:failed", "failed"]);
    expect(r.artifacts.size).toBe(0);
    expect(selfTerminatedWith(pod, r, 1)).toBe(1);
  });
});
