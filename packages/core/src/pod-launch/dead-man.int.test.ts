import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { loadTrainerSource, podLaunch, type SelfTerminateSettings } from "./start-script";

// The start script's dead-man switch, on the RunPod simulator (real processes, RunPod's default restart policy:
// a container that exits is restarted) with no trainpod worker at all: nobody but the pod itself deletes these
// pods. A small HTTP server stands in for the trainpod API (dataset download, run events, artifact upload).

const DATASET = '{"prompt":"2+2?","completion":"4"}\n';
const HANGING_TRAINER = { steps: 3, sim_step_ms: 600_000 };

interface Event {
  type: string;
  lines?: string[];
}
interface AdminPod {
  status: string;
  restarts: number;
  accruedCostMicros: number;
  billedSeconds: number;
}

const events = new Map<string, Event[]>();
const api: Server = createServer((req, res) => {
  const [, kind, name, what, ...rest] = new URL(req.url ?? "/", "http://x").pathname.split("/");
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (req.method === "GET" && kind === "datasets") return res.writeHead(200).end(DATASET);
    if (req.method === "POST" && kind === "runs" && what === "events") {
      events.get(name ?? "")?.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Event);
      return res.writeHead(204).end();
    }
    if (req.method === "POST" && kind === "runs" && what === "artifacts" && rest.length === 0) {
      // the declaration: this API takes the bytes itself (mode api)
      const { path, sizeBytes } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        path: string;
        sizeBytes: number;
      };
      return res
        .writeHead(201, { "content-type": "application/json" })
        .end(JSON.stringify({ path, mode: "api", partSizeBytes: sizeBytes, partCount: 1 }));
    }
    if (req.method === "PUT" && kind === "runs" && what === "artifacts") return res.writeHead(201).end();
    res.writeHead(404).end();
  });
});

let sim: SimProcess;
let base: string;
/** a port nothing listens on: an API that cannot be reached */
let closedPort: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0", SIM_RESTART_DELAY_MS: "200" });
}, 30_000);

afterAll(async () => {
  await sim?.stop();
  await new Promise((resolve) => api.close(resolve));
}, 30_000);

const adminPod = async (id: string): Promise<AdminPod> =>
  (await (await sim.admin(`/admin/pods/${id}`)).json()) as AdminPod;
const podLog = async (id: string): Promise<string> => (await sim.admin(`/admin/pods/${id}/logs`)).text();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a pod running start.sh with the switch set as given; `eventsUrl` overrides where it reports. */
async function launch(
  name: string,
  switchSettings: Omit<SelfTerminateSettings, "runpodApiUrl">,
  opts: { hyperparameters?: Record<string, unknown>; eventsUrl?: string } = {},
): Promise<string> {
  events.set(name, []);
  const spec = podLaunch({
    deploymentId: `dep-${name}`,
    datasetUrl: `${base}/datasets/${name}?token=dlt-${name}`,
    datasetSha256: createHash("sha256").update(DATASET).digest("hex"),
    runToken: `run-${name}`,
    eventsUrl: opts.eventsUrl ?? `${base}/runs/${name}/events`,
    artifactsUrl: `${base}/runs/${name}/artifacts`,
    baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    hyperparameters: opts.hyperparameters ?? { steps: 2, sim_step_ms: 20 },
    trainerSource: loadTrainerSource(),
    selfTerminate: { runpodApiUrl: sim.apiUrl, ...switchSettings },
  });
  const res = await fetch(`${sim.apiUrl}/pods`, {
    method: "POST",
    headers: { authorization: "Bearer x", "content-type": "application/json" },
    body: JSON.stringify({
      name: `dead-man-${name}`,
      image: "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel",
      gpu: { id: "NVIDIA GeForce RTX 4090", count: 1 },
      ...spec,
      env: { ...spec.env, TRAINPOD_RETRY_DELAY_S: "1" },
    }),
  });
  if (res.status !== 201) throw new Error(`create pod: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** Polls the pod until `done` holds; `seen` collects every status observed on the way. */
async function waitFor(
  id: string,
  what: string,
  done: (p: AdminPod) => boolean,
  boundMs: number,
  seen: string[] = [],
): Promise<AdminPod> {
  const end = Date.now() + boundMs;
  for (;;) {
    const pod = await adminPod(id);
    seen.push(pod.status);
    if (done(pod)) return pod;
    if (Date.now() > end)
      throw new Error(
        `pod ${id}: not ${what} (status ${pod.status}, restarts ${pod.restarts}); log tail:\n${(await podLog(id)).slice(-2500)}`,
      );
    await pause(100);
  }
}

/** Terminated, and RunPod's meter for it stopped: the same cost a second and a half later. */
async function expectBillingStopped(id: string): Promise<void> {
  const at = await adminPod(id);
  await pause(1500);
  const later = await adminPod(id);
  expect(later.status).toBe("TERMINATED");
  expect(later.accruedCostMicros).toBeGreaterThan(0);
  expect([later.accruedCostMicros, later.billedSeconds]).toEqual([at.accruedCostMicros, at.billedSeconds]);
}

const selfTerminationLines = (name: string): string[] =>
  (events.get(name) ?? [])
    .filter((e) => e.type === "log")
    .flatMap((e) => e.lines ?? [])
    .filter((l) => l.includes(" self-terminating: "));

describe("start.sh's dead-man switch (no worker: the pod ends itself)", () => {
  it("a pod that reported completed and is never deleted by the worker deletes itself after the grace; billing stops", async () => {
    const id = await launch("completed", { graceSeconds: 2, maxRuntimeSeconds: 3600, unreachableSeconds: 900 });
    const completed = () => (events.get("completed") ?? []).some((e) => e.type === "completed");
    const end = Date.now() + 20_000;
    while (!completed()) {
      if (Date.now() > end) throw new Error(`no completed report; log tail:\n${(await podLog(id)).slice(-2500)}`);
      await pause(50);
    }
    // the pod waits for the worker's DELETE first: still running once its outcome is in, then gone
    const seen: string[] = [];
    const pod = await waitFor(id, "TERMINATED", (p) => p.status === "TERMINATED", 20_000, seen);
    expect(seen[0]).toBe("RUNNING");
    expect(pod.restarts).toBe(0); // the script waited instead of exiting (RunPod would restart it)
    expect(selfTerminationLines("completed")).toEqual([
      expect.stringMatching(
        / self-terminating: outcome \(exit code 0\) reported 2 s ago and the pod is still running$/,
      ),
    ]);
    expect(await podLog(id)).not.toMatch(/self-termination failed/);
    await expectBillingStopped(id);
  }, 45_000);

  it("an API that cannot be reached, and no worker: the watchdog deletes the pod after the unreachable time", async () => {
    const id = await launch(
      "unreachable",
      { graceSeconds: 60, maxRuntimeSeconds: 3600, unreachableSeconds: 2 },
      { hyperparameters: HANGING_TRAINER, eventsUrl: `http://127.0.0.1:${closedPort}/runs/unreachable/events` },
    );
    await waitFor(id, "TERMINATED", (p) => p.status === "TERMINATED", 40_000);
    const log = await podLog(id);
    expect(log).toMatch(/ self-terminating: no report reached the API for \d+ s/);
    expect(log).not.toMatch(/self-terminating: (max runtime|outcome)/);
    expect(events.get("unreachable")).toEqual([]);
    await expectBillingStopped(id);
  }, 60_000);

  it("a trainer that hangs: the watchdog deletes the pod at max runtime + grace, and says so to the API", async () => {
    const id = await launch(
      "hang",
      { graceSeconds: 2, maxRuntimeSeconds: 3, unreachableSeconds: 900 },
      { hyperparameters: HANGING_TRAINER },
    );
    await waitFor(id, "TERMINATED", (p) => p.status === "TERMINATED", 40_000);
    const types = (events.get("hang") ?? []).map((e) => e.type);
    expect(types).toContain("dataset_downloaded"); // it was training, and reporting, when it ended
    expect(types).not.toContain("completed");
    expect(types).not.toContain("failed");
    expect(selfTerminationLines("hang")).toEqual([
      expect.stringMatching(
        / self-terminating: max runtime 3 s \+ grace 2 s reached \(\d+ s since the script first started\)$/,
      ),
    ]);
    await expectBillingStopped(id);
  }, 60_000);
});
