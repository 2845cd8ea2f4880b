import { agentBundle } from "../../packages/core/src/pod-launch/agent-bundle";
import { podLaunch, type SelfTerminateSettings } from "../../packages/core/src/pod-launch/start-script";
import { ISO_LINE, sha256, type FakeRun, type FakeRunApi, type RunBehaviour } from "./fake-run-api";
import type { SimProcess } from "./sim-process";

// Pods of the RunPod simulator (real processes: bash, curl, python3) running the real bootstrap and the real agent
// against a FakeRunApi (fake-run-api.ts), with only the ML work simulated (TRAINPOD_ML=simulated, the sim_*
// hyperparameters of apps/runpod-sim/README.md); and what to read in the events they sent.

export interface PodOptions {
  hyperparameters?: Record<string, unknown>;
  sha256?: string;
  baseModel?: string;
  deploymentId?: string;
  /** where the pod reports (the run's events URL when absent) */
  eventsUrl?: string;
  /** the dead-man switch (its RunPod URL: the simulator's); null: off */
  selfTerminate: Omit<SelfTerminateSettings, "runpodApiUrl"> | null;
  /** the agent's TRAINPOD_HEARTBEAT_S */
  heartbeatSeconds?: number;
}

export interface AdminPod {
  status: string;
  lastExitCode: number | null;
  restarts: number;
  workDir: string;
  accruedCostMicros: number;
  billedSeconds: number;
}

/** Creates a pod for run `r` through the simulator's RunPod API, as the worker does; its id (also in r.podId). */
export async function createPod(sim: SimProcess, api: FakeRunApi, r: FakeRun, opts: PodOptions): Promise<string> {
  const spec = podLaunch({
    deploymentId: opts.deploymentId ?? `dep-${r.name}`,
    datasetUrl: `${api.base}/datasets/${r.name}?token=${r.datasetToken}`,
    datasetSha256: opts.sha256 ?? sha256(r.data),
    runToken: r.runToken,
    eventsUrl: opts.eventsUrl ?? `${api.base}/runs/${r.name}/events`,
    artifactsUrl: `${api.base}/runs/${r.name}/artifacts`,
    baseModel: opts.baseModel ?? "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    // no checkpoints (checkpoint_every_steps 0): these pods test the transfers and reports of one attempt; the
    // checkpoints' uploads have their own tests (pod-agent/tests/test_checkpoints.py, test/e2e/resume.test.ts)
    hyperparameters: opts.hyperparameters ?? { steps: 3, sim_step_ms: 20, checkpoint_every_steps: 0 },
    agentUrl: `${api.base}/runs/${r.name}/agent`,
    agentSha256: agentBundle().sha256,
    selfTerminate: opts.selfTerminate ? { runpodApiUrl: sim.apiUrl, ...opts.selfTerminate } : undefined,
    heartbeatSeconds: opts.heartbeatSeconds,
  });
  const res = await fetch(`${sim.apiUrl}/pods`, {
    method: "POST",
    headers: { authorization: "Bearer x", "content-type": "application/json" },
    body: JSON.stringify({
      name: `pod-agent-${r.name}`,
      image: "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel",
      gpu: { id: "NVIDIA GeForce RTX 4090", count: 1 },
      disk: 20,
      mounts: { persistent: { size: 20, path: "/workspace" } },
      ...spec,
      // the agent's retry delay (TRAINPOD_RETRY_DELAY_S), 1 s instead of 2 s: a 500-forever gives up sooner
      env: { ...spec.env, TRAINPOD_RETRY_DELAY_S: "1" },
    }),
  });
  if (res.status !== 201) throw new Error(`create pod: ${res.status} ${await res.text()}`);
  r.podId = ((await res.json()) as { id: string }).id;
  return r.podId;
}

export const adminPod = async (sim: SimProcess, id: string): Promise<AdminPod> =>
  (await (await sim.admin(`/admin/pods/${id}`)).json()) as AdminPod;
export const podLog = async (sim: SimProcess, id: string): Promise<string> =>
  (await sim.admin(`/admin/pods/${id}/logs`)).text();
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the pod until `done` holds (its container log in the error past `boundMs`); `seen`: every status seen. */
export async function waitForPod(
  sim: SimProcess,
  id: string,
  what: string,
  done: (p: AdminPod) => boolean,
  boundMs: number,
  seen: string[] = [],
): Promise<AdminPod> {
  const end = Date.now() + boundMs;
  for (;;) {
    const pod = await adminPod(sim, id);
    seen.push(pod.status);
    if (done(pod)) return pod;
    if (Date.now() > end)
      throw new Error(
        `pod ${id}: not ${what} (status ${pod.status}); log tail:\n${(await podLog(sim, id)).slice(-2500)}`,
      );
    await pause(50);
  }
}

/** The shipped log's lines, in the order they arrived. */
export const logLines = (r: FakeRun): string[] =>
  r.events.filter((e) => e.type === "log").flatMap((e) => e.lines ?? []);

/**
 * The run as the API saw it, without log batches and heartbeats (they come beside it): each phase's start and end
 * ("train:started", "train:ended", "train:failed" when it ended not ok; its throttled progress left out), then the
 * events by type ("started", "progress", "completed", ...).
 */
export const timeline = (r: FakeRun): string[] =>
  r.events
    .filter((e) => e.type !== "log" && e.type !== "heartbeat" && !(e.type === "phase" && e.state === "progress"))
    .map((e) =>
      e.type === "phase" ? `${e.phase}:${e.state === "ended" && e.ok === false ? "failed" : e.state}` : e.type,
    );

/** Creates the run's pod and resolves once it ended: TERMINATED with the dead-man switch on (nobody else deletes
 * these pods), EXITED with it off (the agent exits; the simulator must not restart it: SIM_RESTART_POLICY=never). */
export async function runToEnd(
  sim: SimProcess,
  api: FakeRunApi,
  name: string,
  behaviour: RunBehaviour,
  opts: PodOptions,
): Promise<AdminPod> {
  const id = await createPod(sim, api, api.add(name, behaviour), opts);
  const end = opts.selfTerminate ? "TERMINATED" : "EXITED";
  return waitForPod(sim, id, end, (p) => p.status === end, 25_000);
}

/** Deletes every pod of `api`'s runs still there (a failed test's), as the worker would. */
export async function deleteLeftoverPods(sim: SimProcess, api: FakeRunApi): Promise<void> {
  for (const r of api.runs.values()) {
    if (!r.podId || (await adminPod(sim, r.podId)).status === "TERMINATED") continue;
    await fetch(`${sim.apiUrl}/pods/${r.podId}`, { method: "DELETE", headers: { authorization: "Bearer x" } });
  }
}

/** The one log line the pod sends when it deletes itself, timestamped as the log's own lines. */
export const selfTerminationLines = (r: FakeRun): string[] => logLines(r).filter((l) => / self-terminating: /.test(l));

/**
 * The exit code a pod with the dead-man switch on reported with its outcome: its last report (heartbeats aside) is
 * the one line `self-terminating: outcome (exit code N) reported G s ago ...`, sent beside the ordered events (no
 * seq), and nothing but the pod itself deleted it (TERMINATED, never restarted, no DELETE by the test).
 */
export function selfTerminatedWith(pod: AdminPod, r: FakeRun, graceSeconds: number): number | undefined {
  expect(pod).toMatchObject({ status: "TERMINATED", restarts: 0 });
  const last = r.events.filter((e) => e.type !== "heartbeat").at(-1);
  expect(last).toEqual({ type: "log", lines: [expect.stringMatching(ISO_LINE)] });
  const said = new RegExp(
    `^\\S+ self-terminating: outcome \\(exit code (\\d+)\\) reported ${graceSeconds} s ago and the pod is still running$`,
  ).exec(last?.lines?.[0] ?? "");
  return said ? Number(said[1]) : undefined;
}

/**
 * Every event went out in order, none lost or repeated: the ordered ones carry seq 1, 2, 3... in the order they
 * arrived; heartbeats (from their own loop) and the dead-man switch's self-termination line carry none.
 */
export function expectSequenced(r: FakeRun): void {
  expect(r.events.filter((e) => e.type === "heartbeat" && e.seq !== undefined)).toEqual([]);
  const unsequenced = r.events.filter((e) => e.seq === undefined && e.type !== "heartbeat");
  expect(unsequenced.length).toBeLessThanOrEqual(1);
  for (const e of unsequenced)
    expect(e).toEqual({ type: "log", lines: [expect.stringMatching(/^\S+ self-terminating: /)] });
  const seqs = r.events.filter((e) => e.seq !== undefined).map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
}
