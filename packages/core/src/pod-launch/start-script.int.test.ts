import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { startSimProcess, type SimProcess } from "../../../../test/support/sim-process";
import { runEventSchema } from "../lifecycle/record-run-event";
import { artifactDeclarationSchema } from "../artifacts/reserve-artifact";
import { loadTrainerSource, podLaunch } from "./start-script";

// The real start script, run by the RunPod simulator as a real process (bash, curl, sha256sum; the sim's
// python stand-in is the trainer), against a small HTTP server standing in for the trainpod API.

const DATASET = [
  '{"prompt":"2+2?","completion":"4"}',
  '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}',
  "",
].join("\n");
const DATASET_SHA256 = createHash("sha256").update(DATASET).digest("hex");
const WEIRD_MODEL = 'org/model "quoted" back\\slash\\ tab\there ctrl\x01end';
// a log far over the pipe buffer (64 KB) between two shipments, and one line over the API's 4000 chars: the
// script logs "trainpod run <deployment id> on pod ..." (an id no trainer sees: the sim's python stand-in, a
// node script, can lose stdout beyond 64 KB at its exit when the reader is slow)
const LONG_ID = [
  "dep-long",
  ...Array.from({ length: 400 }, (_, i) => `${String(i).padStart(4, "0")} ${"y".repeat(245)}`),
  "x".repeat(6000),
].join("\n");
const ISO_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z /;

type Case =
  "success" | "trainfail" | "shamismatch" | "always500" | "tokenused" | "broken" | "uploadforbidden" | "weird" | "long";
interface Event {
  type: string;
  step?: number;
  totalSteps?: number;
  exitCode?: number;
  phase?: string;
  message?: string;
  lines?: string[];
}
interface Run {
  datasetToken: string;
  runToken: string;
  datasetRequests: number;
  uploadRequests: number;
  events: Event[];
  /** event bodies the trainpod API would refuse: no bearer token, over 256 KB, not JSON, not a run event */
  rejected: string[];
  artifacts: Map<string, { auth: string | undefined; sha256: string }>;
  /** what the script declared before each upload */
  declared: Map<string, { path: string; sizeBytes: number; sha256: string }>;
  podId?: string;
}
interface AdminPod {
  status: string;
  lastExitCode: number | null;
  restarts: number;
  workDir: string;
}

const runs = new Map<Case, Run>();
const run = (c: Case): Run => {
  const r = runs.get(c);
  if (!r) throw new Error(`no run ${c}`);
  return r;
};

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The trainpod API's part: token download, run events, artifact upload. */
const api: Server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? "/", "http://x");
    const [, kind, name, what, ...rest] = url.pathname.split("/");
    const r = runs.get(name as Case);
    const data = await body(req);
    if (!r) return res.writeHead(404).end();
    if (req.method === "GET" && kind === "datasets") {
      r.datasetRequests++;
      if (name === "always500" || (name === "success" && r.datasetRequests === 1))
        return res.writeHead(500).end("boom");
      // the API's answer to a spent single-use token (apps/api error-handler shape)
      if (name === "tokenused")
        return res
          .writeHead(401, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "TOKEN_USED", message: "download token was already used" } }));
      if (url.searchParams.get("token") !== r.datasetToken) return res.writeHead(403).end();
      if (name === "broken" && r.datasetRequests === 1) {
        // a transfer broken mid-way: headers promise the whole file, half of it comes, then the connection resets
        res.writeHead(200, { "content-type": "application/x-ndjson", "content-length": Buffer.byteLength(DATASET) });
        res.write(DATASET.slice(0, 20));
        return setTimeout(() => res.socket?.destroy(), 50);
      }
      return res.writeHead(200, { "content-type": "application/x-ndjson" }).end(DATASET);
    }
    const authorized = req.headers.authorization === `Bearer ${r.runToken}`;
    if (req.method === "POST" && kind === "runs" && what === "events") {
      try {
        if (!authorized) throw new Error(`bad authorization ${req.headers.authorization}`);
        if (data.length > 256 * 1024) throw new Error(`${data.length} bytes, over express.json's 256kb limit`);
        const event = JSON.parse(data.toString("utf8")) as Event;
        const valid = runEventSchema.safeParse(event); // the API's own event schema and limits
        if (!valid.success) throw new Error(valid.error.message.slice(0, 500));
        r.events.push(event);
        return res.writeHead(204).end();
      } catch (err) {
        r.rejected.push(`${(err as Error).message}: ${data.toString("utf8").slice(0, 300)}`);
        return res.writeHead(400).end();
      }
    }
    if (req.method === "POST" && kind === "runs" && what === "artifacts" && rest.length === 0) {
      // the declaration (path, size, sha256), checked with the API's own schema; this API takes the bytes itself
      r.uploadRequests++;
      if (name === "uploadforbidden")
        return res
          .writeHead(403, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "FORBIDDEN", message: "run token revoked" } }));
      const declared = artifactDeclarationSchema.safeParse(JSON.parse(data.toString("utf8") || "null"));
      if (!authorized || !declared.success) return res.writeHead(authorized ? 400 : 401).end();
      r.declared.set(declared.data.path, declared.data);
      return res.writeHead(201, { "content-type": "application/json" }).end(
        JSON.stringify({
          path: declared.data.path,
          mode: "api",
          partSizeBytes: declared.data.sizeBytes,
          partCount: 1,
        }),
      );
    }
    if (req.method === "PUT" && kind === "runs" && what === "artifacts" && rest.length > 0) {
      const sha256 = createHash("sha256").update(data).digest("hex");
      const declared = r.declared.get(rest.join("/"));
      if (!declared || declared.sha256 !== sha256 || declared.sizeBytes !== data.length)
        return res.writeHead(422).end();
      r.artifacts.set(rest.join("/"), { auth: req.headers.authorization, sha256 });
      return res.writeHead(authorized ? 201 : 401).end();
    }
    res.writeHead(404).end();
  })();
});

let sim: SimProcess;
let base: string;
const exited = new Map<Case, Promise<AdminPod>>();

async function adminPod(id: string): Promise<AdminPod> {
  return (await (await sim.admin(`/admin/pods/${id}`)).json()) as AdminPod;
}

/**
 * Creates a pod through the sim's RunPod API, as the worker does, and resolves once it has ended: with the
 * dead-man switch on (the default here: a 1 s grace, and no worker ever deletes these pods) the script reports
 * its outcome and the pod deletes itself (TERMINATED); with it off, the script exits (EXITED).
 */
async function launch(
  c: Case,
  opts: {
    hyperparameters?: Record<string, unknown>;
    sha256?: string;
    baseModel?: string;
    deploymentId?: string;
    deadMan?: false;
  } = {},
): Promise<AdminPod> {
  const r: Run = {
    datasetToken: `dlt-${c}-${Math.random().toString(36).slice(2)}`,
    runToken: `run-${c}-${Math.random().toString(36).slice(2)}`,
    datasetRequests: 0,
    uploadRequests: 0,
    events: [],
    rejected: [],
    artifacts: new Map(),
    declared: new Map(),
  };
  runs.set(c, r);
  const launchSpec = podLaunch({
    deploymentId: opts.deploymentId ?? `dep-${c}`,
    datasetUrl: `${base}/datasets/${c}?token=${r.datasetToken}`,
    datasetSha256: opts.sha256 ?? DATASET_SHA256,
    runToken: r.runToken,
    eventsUrl: `${base}/runs/${c}/events`,
    artifactsUrl: `${base}/runs/${c}/artifacts`,
    baseModel: opts.baseModel ?? "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    hyperparameters: opts.hyperparameters ?? { steps: 3, sim_step_ms: 20 },
    trainerSource: loadTrainerSource(),
    selfTerminate:
      opts.deadMan === false
        ? undefined
        : { runpodApiUrl: sim.apiUrl, graceSeconds: 1, maxRuntimeSeconds: 3600, unreachableSeconds: 900 },
  });
  const res = await fetch(`${sim.apiUrl}/pods`, {
    method: "POST",
    headers: { authorization: "Bearer x", "content-type": "application/json" },
    body: JSON.stringify({
      name: `start-script-${c}`,
      image: "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel",
      gpu: { id: "NVIDIA GeForce RTX 4090", count: 1 },
      disk: 20,
      mounts: { persistent: { size: 20, path: "/workspace" } },
      ...launchSpec,
      // curl's retry delay, 1 s instead of 2 s, so the always-500 download gives up sooner
      env: { ...launchSpec.env, TRAINPOD_RETRY_DELAY_S: "1" },
    }),
  });
  if (res.status !== 201) throw new Error(`create pod: ${res.status} ${await res.text()}`);
  const podId = ((await res.json()) as { id: string }).id;
  r.podId = podId;
  const end = Date.now() + 18_000;
  for (;;) {
    const pod = await adminPod(podId);
    if (pod.status === (opts.deadMan === false ? "EXITED" : "TERMINATED")) return pod;
    if (Date.now() > end) {
      const log = await (await sim.admin(`/admin/pods/${podId}/logs`)).text();
      throw new Error(
        `pod ${c} did not exit (status ${pod.status}); ${r.events.length} events, ${r.rejected.length} rejected; log tail:\n${log.slice(-2000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pod's outcome, with its container log attached to any failure of the assertions that follow. */
async function outcome(c: Case): Promise<{
  pod: AdminPod;
  r: Run;
  types: string[];
  logLines: string[];
  failed: Event | undefined;
  outcomes: string[];
}> {
  const pod = await (exited.get(c) ?? Promise.reject(new Error(`${c} not launched`)));
  const r = run(c);
  expect(r.rejected).toEqual([]);
  const logLines = r.events.filter((e) => e.type === "log").flatMap((e) => e.lines ?? []);
  const types = r.events.map((e) => e.type);
  return {
    pod,
    r,
    types,
    logLines,
    failed: r.events.find((e) => e.type === "failed"),
    outcomes: types.filter((t) => t === "completed" || t === "failed"),
  };
}

/**
 * The exit code a pod with the dead-man switch on ended with: the script's last report, after its outcome, is
 * the one line `self-terminating: outcome (exit code N) ...`, and nothing but the pod itself deleted it
 * (TERMINATED, never restarted, no DELETE by this test).
 */
function selfTerminatedWith(pod: AdminPod, r: Run): number | undefined {
  expect(pod).toMatchObject({ status: "TERMINATED", restarts: 0 });
  const last = r.events.at(-1);
  expect(last?.type).toBe("log");
  expect(last?.lines).toHaveLength(1);
  const m = / self-terminating: outcome \(exit code (\d+)\) reported 1 s ago and the pod is still running$/.exec(
    last?.lines?.[0] ?? "",
  );
  return m ? Number(m[1]) : undefined;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  sim = await startSimProcess({ SIM_BOOT_DELAY_MS: "0", SIM_RESTART_POLICY: "never" });
  // every pod runs at once; each test awaits its own
  const launches: Array<[Case, Promise<AdminPod>]> = [
    ["success", launch("success")],
    [
      "trainfail",
      launch("trainfail", { hyperparameters: { steps: 5, sim_step_ms: 20, sim_fail_at_step: 2, sim_exit_code: 3 } }),
    ],
    ["shamismatch", launch("shamismatch", { sha256: "0".repeat(64), deadMan: false })],
    ["always500", launch("always500")],
    ["tokenused", launch("tokenused")],
    ["broken", launch("broken")],
    ["uploadforbidden", launch("uploadforbidden")],
    ["weird", launch("weird", { baseModel: WEIRD_MODEL })],
    ["long", launch("long", { deploymentId: LONG_ID })],
  ];
  for (const [c, p] of launches) {
    p.catch(() => undefined); // reported by the test that awaits it
    exited.set(c, p);
  }
}, 30_000);

afterAll(async () => {
  for (const r of runs.values()) {
    if (!r.podId || !sim || (await adminPod(r.podId)).status === "TERMINATED") continue;
    const res = await fetch(`${sim.apiUrl}/pods/${r.podId}`, {
      method: "DELETE",
      headers: { authorization: "Bearer x" },
    });
    expect(res.status).toBe(204);
  }
  await sim?.stop();
  await new Promise((resolve) => api.close(resolve));
}, 30_000);

describe("start.sh on a (simulated) RunPod pod", () => {
  it("success: downloads (retrying a 500), verifies, trains, uploads with the run token, reports in order", async () => {
    const { pod, r, types, logLines } = await outcome("success");
    expect(selfTerminatedWith(pod, r)).toBe(0);
    expect(r.datasetRequests).toBe(2); // the first answered 500; curl retried
    // started → dataset_downloaded → progress 1..3 → log → completed (log batches may come in between)
    expect(types.filter((t) => t !== "log")).toEqual([
      "started",
      "dataset_downloaded",
      "progress",
      "progress",
      "progress",
      "completed",
    ]);
    expect(r.events.filter((e) => e.type === "progress").map((e) => [e.step, e.totalSteps])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    // the last log batch right before completed; after it only the self-termination line
    expect(types.slice(-3)).toEqual(["log", "completed", "log"]);
    expect(types.length - 3).toBeGreaterThan(types.lastIndexOf("progress"));
    expect(r.events[1]).toMatchObject({ type: "dataset_downloaded", bytes: Buffer.byteLength(DATASET) });
    expect(r.events[0]).toMatchObject({
      type: "started",
      system: { gpu: expect.stringContaining("RTX 4090"), podId: r.podId, packages: expect.any(String) },
    });
    // artifacts: every file the trainer wrote, PUT with the bearer token, byte for byte
    expect([...r.artifacts.keys()].sort()).toEqual([
      "adapter_config.json",
      "adapter_model.safetensors",
      "trainer_state.json",
    ]);
    for (const [rel, a] of r.artifacts) {
      expect(a.auth).toBe(`Bearer ${r.runToken}`);
      expect(a.sha256).toBe(
        createHash("sha256")
          .update(readFileSync(path.join(pod.workDir, "fine_tuned_model", rel)))
          .digest("hex"),
      );
    }
    // the shipped log: timestamped lines, every phase in it, no secret
    expect(logLines.length).toBeGreaterThan(5);
    for (const l of logLines) expect(l).toMatch(ISO_LINE);
    const text = logLines.join("\n");
    expect(text).toMatch(/sha256 verified/);
    expect(text).toMatch(/step 3\/3/);
    expect(text).toMatch(/uploaded adapter_model\.safetensors/);
    expect(text).not.toContain(r.datasetToken);
    expect(text).not.toContain(r.runToken);
  });

  it("failing training: reports failed with the trainer's exit code, phase training and the traceback; no completed", async () => {
    const { pod, r, failed, outcomes } = await outcome("trainfail");
    expect(selfTerminatedWith(pod, r)).toBe(3);
    expect(outcomes).toEqual(["failed"]);
    expect(failed).toMatchObject({ exitCode: 3, phase: "training", message: "training exited with code 3" });
    const lines = failed?.lines ?? [];
    expect(lines.some((l) => l.includes("Traceback (most recent call last):"))).toBe(true);
    expect(lines.some((l) => l.includes("OutOfMemoryError"))).toBe(true);
    for (const l of lines) expect(l).toMatch(ISO_LINE);
    expect(r.events.filter((e) => e.type === "progress").map((e) => e.step)).toEqual([1]);
    expect(r.artifacts.size).toBe(0);
  });

  it("sha256 mismatch: reports failed in phase dataset_download and never trains (dead-man switch off: the script exits)", async () => {
    const { pod, r, types, logLines, failed } = await outcome("shamismatch");
    expect(pod).toMatchObject({ status: "EXITED", lastExitCode: 1 });
    expect(logLines.filter((l) => l.includes("dead-man switch off"))).toEqual([
      expect.stringMatching(/ dead-man switch off: missing TRAINPOD_RUNPOD_API_URL$/),
    ]);
    expect(logLines.join("\n")).not.toMatch(/self-terminating/);
    expect(failed).toMatchObject({ phase: "dataset_download", exitCode: 1, message: "dataset sha256 mismatch" });
    expect(types).not.toContain("dataset_downloaded");
    expect(types).not.toContain("progress");
    expect(types).not.toContain("completed");
    expect([...logLines, ...(failed?.lines ?? [])].join("\n")).not.toMatch(/training|step \d/);
    expect(r.artifacts.size).toBe(0);
  });

  it("a dataset server that always answers 500: retried 5 times, then failed in phase dataset_download", async () => {
    const { pod, r, types, failed } = await outcome("always500");
    expect(r.datasetRequests).toBe(6); // the first try and 5 retries
    expect(selfTerminatedWith(pod, r)).toBe(22); // 22, as curl --fail: an HTTP error
    expect(failed).toMatchObject({ phase: "dataset_download", exitCode: 22 });
    expect(failed?.message).toBe("dataset download failed: HTTP 500 (6 attempts)");
    expect((failed?.lines ?? []).join("\n")).toMatch(/500/);
    expect(types).not.toContain("progress");
    expect(types).not.toContain("completed");
  });

  it("a spent dataset token (401 TOKEN_USED) is requested once, and the failure names the status and the code", async () => {
    const { pod, r, types, failed } = await outcome("tokenused");
    expect(r.datasetRequests).toBe(1); // a 401 is no reason to try again: no GPU time spent on retries
    expect(selfTerminatedWith(pod, r)).toBe(22);
    expect(failed).toMatchObject({ phase: "dataset_download", exitCode: 22 });
    expect(failed?.message).toMatch(/dataset download failed: HTTP 401 TOKEN_USED/);
    expect(types).not.toContain("dataset_downloaded");
    expect(types).not.toContain("progress");
    expect(types).not.toContain("completed");
  });

  it("a dataset transfer broken mid-way is retried (a connection error), then the run goes on", async () => {
    const { pod, r, failed, outcomes, logLines } = await outcome("broken");
    expect(r.datasetRequests).toBe(2);
    expect(failed).toBeUndefined();
    expect(outcomes).toEqual(["completed"]);
    expect(selfTerminatedWith(pod, r)).toBe(0);
    expect(logLines.some((l) => / dataset download: curl exit code 18: .*; retry 1\/5 in 1 s$/.test(l))).toBe(true);
  });

  it("an artifact upload answered 403 stops at once: failed in phase upload, with the status and the API's code", async () => {
    const { pod, r, failed, outcomes } = await outcome("uploadforbidden");
    expect(r.uploadRequests).toBe(1);
    expect(outcomes).toEqual(["failed"]);
    expect(failed).toMatchObject({ phase: "upload", exitCode: 22 });
    expect(failed?.message).toMatch(/^upload of \S+ failed: HTTP 403 FORBIDDEN \(not retried\)$/);
    expect(selfTerminatedWith(pod, r)).toBe(22);
  });

  it("log lines with quotes, backslashes, tabs and control characters arrive as valid JSON", async () => {
    const { pod, r, logLines, outcomes } = await outcome("weird");
    expect(selfTerminatedWith(pod, r)).toBe(0);
    expect(r.rejected).toEqual([]);
    expect(outcomes).toEqual(["completed"]);
    // the script logs "training <base model>": quotes, backslashes and the tab intact, the control character dropped
    const expected = `training ${WEIRD_MODEL.replace("\x01", "")}`;
    expect(logLines.some((l) => l.endsWith(expected))).toBe(true);
    for (const l of logLines) expect(l).not.toMatch(/[\x00-\x08\x0b-\x1f]/); // eslint-disable-line no-control-regex
  });

  it("a long log (over 64 KB unshipped, a line over 4000 chars) is shipped whole, in events the API accepts", async () => {
    const { pod, r, logLines, failed, outcomes } = await outcome("long");
    expect(failed).toBeUndefined(); // no bogus failure from a SIGPIPE'd `tail | head` in ship_logs
    expect(selfTerminatedWith(pod, r)).toBe(0);
    expect(r.rejected).toEqual([]);
    expect(outcomes).toEqual(["completed"]);
    // every line once, in order: none lost, none shipped twice
    const numbered = logLines.map((l) => / (\d{4}) y+$/.exec(l)?.[1]).filter((n) => n !== undefined);
    expect(numbered).toEqual(Array.from({ length: 400 }, (_, i) => String(i).padStart(4, "0")));
    expect(logLines.some((l) => l.endsWith("uploaded adapter_model.safetensors"))).toBe(true);
    // the 6000-char line arrives cut, within the API's limit for a line
    const cut = logLines.filter((l) => /^\S+ x+\.\.\.$/.test(l));
    expect(cut).toHaveLength(1);
    expect(cut[0]?.length).toBeLessThanOrEqual(1100);
    for (const l of logLines) expect(l).toMatch(ISO_LINE);
  });
});
