import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { zipSync } from "fflate";
import { runEventSchema } from "../lifecycle/record-run-event";
import { agentBundle } from "./agent-bundle";
import { podLaunch, startArgs } from "./start-script";

// The pod's bootstrap (start.sh) as the pod runs it (`bash -c BOOTSTRAP` with podLaunch's env), with the real bash,
// curl, sha256sum and python3, against a small HTTP server standing in for the trainpod API (and RunPod's DELETE).
// The agent here is a stand-in zipapp that prints what it was started with; the real one: start-script.int.test.ts.

const RUN_TOKEN = "tp_run_bootstrap0123456789abcdef";
const POD_KEY = "rpa_PODbootstrap0123456789";
const STAND_IN_AGENT = Buffer.from(
  zipSync({
    "__main__.py": Buffer.from(
      "import os, sys\nprint('agent started:', sys.argv[0].endswith('agent.pyz'), os.environ['TRAINPOD_DEPLOYMENT_ID'])\n",
    ),
  }),
);
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}
const seen: Seen[] = [];
let agentStatus = 200;
let agentBytes: Buffer = STAND_IN_AGENT;
const api: Server = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString("utf8")));
  req.on("end", () => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, body });
    if (req.method === "GET" && req.url === "/v1/runs/dep-1/agent")
      return agentStatus === 200 && req.headers.authorization === `Bearer ${RUN_TOKEN}`
        ? res.writeHead(200, { "content-type": "application/zip" }).end(agentBytes)
        : res.writeHead(agentStatus === 200 ? 401 : agentStatus).end();
    if (req.method === "POST" && req.url === "/v1/runs/dep-1/events") return res.writeHead(202).end('{"ok":true}');
    if (req.method === "DELETE" && req.url === "/v2/pods/pod-1") return res.writeHead(204).end();
    res.writeHead(404).end();
  });
});
let base: string;
const tmp = mkdtempSync(path.join(os.tmpdir(), "trainpod-bootstrap-"));
beforeAll(async () => {
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => api.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  seen.length = 0;
  agentStatus = 200;
  agentBytes = STAND_IN_AGENT;
});

/** A `python` first on PATH that writes down each `-m pip` call (and exits PIP_RC) and runs python3 for the rest. */
function pythonWithFakePip(dir: string): string {
  const bin = path.join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const script = [
    "#!/usr/bin/env bash",
    'if [ "${1-}" = -m ] && [ "${2-}" = pip ]; then printf "%s\\n" "${*:3}" >> "$PIP_LOG"; exit "${PIP_RC:-0}"; fi',
    'exec python3 "$@"',
  ].join("\n");
  writeFileSync(path.join(bin, "python"), script);
  chmodSync(path.join(bin, "python"), 0o755);
  return bin;
}

/** Runs the bootstrap as a pod would; resolves with its exit code and output, and the pip calls it made. */
async function boot(opts: { agentSha256?: string; env?: Record<string, string>; killOnDelete?: boolean } = {}) {
  const work = mkdtempSync(path.join(tmp, "pod-"));
  const spec = podLaunch({
    deploymentId: "dep-1",
    datasetUrl: `${base}/v1/datasets/download?token=dlt_x`,
    datasetSha256: "0".repeat(64),
    runToken: RUN_TOKEN,
    eventsUrl: `${base}/v1/runs/dep-1/events`,
    artifactsUrl: `${base}/v1/runs/dep-1/artifacts`,
    baseModel: "m",
    hyperparameters: {},
    agentUrl: `${base}/v1/runs/dep-1/agent`,
    agentSha256: opts.agentSha256 ?? sha256(STAND_IN_AGENT),
  });
  const pipLog = path.join(work, "pip.log");
  writeFileSync(pipLog, "");
  const { entrypoint, cmd } = JSON.parse(startArgs()) as { entrypoint: string[]; cmd: string[] };
  const child = spawn(entrypoint[0] ?? "bash", [...entrypoint.slice(1), ...cmd], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"], // a socket on stdin makes Debian's bash read ~/.bashrc
    env: {
      PATH: `${pythonWithFakePip(work)}:${process.env.PATH ?? ""}`,
      ...spec.env,
      RUNPOD_VOLUME_MOUNT_PATH: work,
      TRAINPOD_RETRY_DELAY_S: "1",
      PIP_LOG: pipLog,
      ...opts.env,
    },
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const poll = setInterval(() => {
    // RunPod stops the container once the pod is deleted: so does this test
    if (opts.killOnDelete && seen.some((s) => s.method === "DELETE")) process.kill(-(child.pid ?? 0), "SIGKILL");
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearInterval(poll);
  return { code, out, pip: readFileSync(pipLog, "utf8"), work };
}

const failedReport = (what: string) => ({
  type: "failed",
  phase: "setup",
  cause: "setup",
  exitCode: 1,
  message: `setup failed: ${what}`,
});

describe("start.sh, the bootstrap, run as the pod runs it", () => {
  it("prints the system with UTC timestamps, fetches the agent with the run token, checks it and execs it", async () => {
    const r = await boot({ env: { TRAINPOD_ML: "simulated" } });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ trainpod run dep-1 on pod unknown \(/),
      expect.stringMatching(/^\S+Z date: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \| gpu: \S.* \| Python 3\./),
      expect.stringMatching(/^\S+Z fetching the agent$/),
    ]);
    expect(lines.at(-1)).toBe("agent started: True dep-1");
    expect(seen.map((s) => [s.method, s.url, s.auth])).toEqual([
      ["GET", "/v1/runs/dep-1/agent", `Bearer ${RUN_TOKEN}`],
    ]);
    expect(readFileSync(path.join(r.work, "trainpod", "agent.pyz")).equals(STAND_IN_AGENT)).toBe(true);
    expect(r.pip).toBe(""); // simulated ML: no package check, no pip
    expect(r.out).not.toContain(RUN_TOKEN);
  });

  it("a sha256 that is not the agent's: reported as failed in setup (the API's schema takes it), the agent never runs", async () => {
    agentBytes = agentBundle().bytes;
    const r = await boot({ agentSha256: sha256(STAND_IN_AGENT), env: { TRAINPOD_ML: "simulated" } });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Z setup failed: agent sha256 mismatch\n/);
    expect(r.out).not.toContain("agent started");
    const reports = seen.filter((s) => s.method === "POST");
    expect(reports.map((s) => [s.url, s.auth])).toEqual([["/v1/runs/dep-1/events", `Bearer ${RUN_TOKEN}`]]);
    expect(JSON.parse(reports[0]?.body ?? "null")).toEqual(failedReport("agent sha256 mismatch"));
    expect(runEventSchema.safeParse(JSON.parse(reports[0]?.body ?? "null")).success).toBe(true);
  });

  it("an agent that cannot be fetched: 6 tries, then failed in setup", async () => {
    agentStatus = 503;
    const r = await boot({ env: { TRAINPOD_ML: "simulated" } });
    expect(r.code).toBe(1);
    expect(seen.filter((s) => s.method === "GET")).toHaveLength(6);
    expect(seen.filter((s) => s.method === "POST").map((s) => JSON.parse(s.body))).toEqual([
      failedReport("agent download"),
    ]);
  }, 30_000);

  it("real ML: the pins already there (one python check) means no pip; one missing means pip install with torch kept", async () => {
    const have = `pip==${await installed("pip")}`;
    const satisfied = await boot({ env: { TRAINPOD_TRAINER_REQUIREMENTS: have } });
    expect([satisfied.code, satisfied.pip]).toEqual([0, ""]);
    const missing = await boot({ env: { TRAINPOD_TRAINER_REQUIREMENTS: `${have} no-such-package-trainpod==1.0` } });
    expect(missing.code).toBe(0);
    expect(missing.pip).toMatch(
      new RegExp(
        `^install --quiet --disable-pip-version-check -c \\S+/constraints.txt ${have} no-such-package-trainpod==1.0\n$`,
      ),
    );
    expect(missing.out).toMatch(/Z installing .*no-such-package-trainpod==1\.0 \(torch kept at /);
  }, 30_000);

  it("pip fails: failed in setup; with the dead-man switch set, the pod deletes itself after the grace", async () => {
    const r = await boot({
      killOnDelete: true,
      env: {
        TRAINPOD_TRAINER_REQUIREMENTS: "no-such-package-trainpod==1.0",
        PIP_RC: "1",
        RUNPOD_POD_ID: "pod-1",
        RUNPOD_API_KEY: POD_KEY,
        TRAINPOD_RUNPOD_API_URL: `${base}/v2/`,
        TRAINPOD_SELF_TERMINATE_GRACE_S: "1",
      },
    });
    expect(r.out).toMatch(/Z setup failed: pip install of the trainer packages\n/);
    expect(r.out).toMatch(/Z self-terminating: setup failed and the pod is still running\n/);
    expect(r.out).not.toContain("agent started");
    expect(seen.map((s) => [s.method, s.url, s.auth])).toEqual([
      ["GET", "/v1/runs/dep-1/agent", `Bearer ${RUN_TOKEN}`],
      ["POST", "/v1/runs/dep-1/events", `Bearer ${RUN_TOKEN}`],
      ["DELETE", "/v2/pods/pod-1", `Bearer ${POD_KEY}`],
    ]);
    expect(JSON.parse(seen[1]?.body ?? "null")).toEqual(failedReport("pip install of the trainer packages"));
  }, 30_000);
});

/** The version of a package python3 has (importlib.metadata, as the bootstrap's check reads it). */
async function installed(name: string): Promise<string> {
  const child = spawn("python3", [
    "-c",
    `from importlib.metadata import version; print(version(${JSON.stringify(name)}))`,
  ]);
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  await new Promise((resolve) => child.on("close", resolve));
  return out.trim();
}
