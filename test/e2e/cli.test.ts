import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createUserWithKey } from "@trainpod/core";
import { runCli, type CliRun } from "../support/cli-process";
import { startSystem, type System } from "../support/system";
import { CHAT_DATASET, until } from "./support/client";

let sys: System;
let key: string;
let dir: string;
let datasetId: string;

/** The CLI as its own process, with this file's home and config folder. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { HOME: dir, TRAINPOD_CONFIG_DIR: path.join(dir, "config"), ...env });
}
const withKey = (extra: Record<string, string> = {}) => ({
  TRAINPOD_API_URL: sys.apiUrl,
  TRAINPOD_API_KEY: key,
  ...extra,
});
const deploymentCount = () => sys.db.prisma.deployment.count();

beforeAll(async () => {
  sys = await startSystem();
  key = (await createUserWithKey(sys.db.prisma, { email: "cli@example.com", role: "USER" })).key;
  dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-cli-"));
  writeFileSync(path.join(dir, "chat.jsonl"), `${CHAT_DATASET}\n`);
}, 60_000);

afterAll(async () => {
  await sys?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the trainpod CLI against the running system and simulator", () => {
  it("login checks the key and stores it readable by its owner only", async () => {
    const bad = await cli(["login", "--api-url", sys.apiUrl, "--key", "tp_live_wrong"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/UNAUTHORIZED/);
    const ok = await cli(["login", "--api-url", sys.apiUrl, "--key", key]);
    expect(ok.code).toBe(0);
    const file = path.join(dir, "config", "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ apiUrl: sys.apiUrl, apiKey: key });
  });

  it("datasets upload streams the file (with the stored login) and prints the dataset", async () => {
    const up = await cli(["datasets", "upload", path.join(dir, "chat.jsonl"), "--name", "chat", "--json"]);
    expect(up.code).toBe(0);
    const ds = JSON.parse(up.stdout);
    expect(ds).toMatchObject({ name: "chat", format: "chat", rowCount: 2 });
    expect(up.stderr).toMatch(/uploading chat: \d+\/\d+ bytes/);
    datasetId = ds.id;
    expect(await sys.db.prisma.dataset.count({ where: { id: datasetId } })).toBe(1);
  });

  it("deploy --yes prints the estimate and submits; watch follows it and exits 0 when it SUCCEEDED", async () => {
    const dep = await cli(
      [
        "deploy",
        "--yes",
        "--dataset",
        datasetId,
        "--model",
        "tiny-llama",
        "--gpu",
        "NVIDIA GeForce RTX 4090",
        "--hp",
        "steps=3",
        "--hp",
        "sim_step_ms=50",
        "--max-cost",
        "2",
        "--max-runtime",
        "60",
        "--expected-runtime",
        "10",
      ],
      withKey(),
    );
    expect(dep.code).toBe(0);
    // $0.69/h: 10 expected minutes = $0.115; 60 minutes at worst = $0.69, under the $2 cap
    expect(dep.stdout).toMatch(/expected: {3}\$0\.115 /);
    expect(dep.stdout).toMatch(/worst case: \$0\.69 /);
    expect(dep.stdout).toMatch(/cost cap: {3}\$2\.00 enforced, max runtime 60 min; maxRuntimeMinutes binds first/);
    const id = /deployment ([0-9a-f-]{36}) QUEUED/.exec(dep.stdout)?.[1] ?? "";
    const w = await cli(["watch", id], withKey());
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/● pod \S+ created/);
    expect(w.stdout).toMatch(/step 3\/3 loss/);
    expect(w.stdout).toMatch(/│ .*Training complete/);
    expect(w.stdout).toMatch(/✓ training completed/);
    expect(w.stdout).toMatch(new RegExp(`${id} {2}SUCCEEDED`));
    const st = await cli(["status", id, "--json"], withKey());
    expect(JSON.parse(st.stdout).status).toBe("SUCCEEDED");
  });

  it("a failing run (from a YAML file) makes deploy --watch exit 3 with the failure shown", async () => {
    const file = path.join(dir, "run.yaml");
    writeFileSync(
      file,
      `datasetId: ${datasetId}\nbaseModel: tiny-llama\ngpuTypeIds:\n  - NVIDIA A40\nhyperparameters:\n  steps: 5\n  sim_step_ms: 50\n  sim_fail_at_step: 2\n  sim_exit_code: 3\n`,
    );
    const run = await cli(["deploy", "-f", file, "--yes", "--watch"], withKey());
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/✗ failed: TRAINING_FAILED/);
    expect(run.stdout).toMatch(/FAILED \(TRAINING_FAILED\)/);
  });

  it("a cancelled run makes watch exit 4", async () => {
    const dep = await cli(
      [
        "deploy",
        "--yes",
        "--json",
        "--dataset",
        datasetId,
        "--model",
        "m",
        "--gpu",
        "NVIDIA A40",
        "--hp",
        "steps=500",
        "--hp",
        "sim_step_ms=100",
      ],
      withKey(),
    );
    const id = JSON.parse(dep.stdout).deployment.id as string;
    await until(
      "running",
      async () => (await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).status === "RUNNING",
    );
    const [w, c] = await Promise.all([cli(["watch", id], withKey()), cli(["cancel", id], withKey())]);
    expect(c.code).toBe(0);
    expect(w.code).toBe(4);
  });

  it("deploy lists every pre-flight problem, exits 1 and creates nothing; without --yes and a terminal it does not deploy", async () => {
    const before = await deploymentCount();
    const bad = await cli(
      [
        "deploy",
        "--yes",
        "--dataset",
        datasetId,
        "--model",
        "m",
        "--gpu",
        "NVIDIA GTX 9999",
        "--image",
        "",
        "--max-cost",
        "0.000001",
      ],
      withKey(),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/PREFLIGHT_FAILED/);
    expect(bad.stderr).toMatch(/- UNKNOWN_GPU_TYPE \[gpuTypeIds\.0\]/);
    expect(bad.stderr).toMatch(/- IMAGE_MISSING/);
    const unconfirmed = await cli(["deploy", "--dataset", datasetId, "--model", "m", "--gpu", "NVIDIA A40"], withKey());
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toMatch(/not confirmed.*--yes/);
    expect(await deploymentCount()).toBe(before);
    expect((await cli(["deploy", "--yes", "--model", "m"], withKey())).code).toBe(2);
  });

  it("list shows the runs; bad usage exits 2; an unknown id exits 1", async () => {
    const l = await cli(["list"], withKey());
    expect(l.code).toBe(0);
    expect(l.stdout.split("\n").filter((line) => /SUCCEEDED|FAILED|CANCELLED/.test(line))).toHaveLength(3);
    expect((await cli(["frobnicate"], withKey())).code).toBe(2);
    expect((await cli(["watch", "00000000-0000-4000-8000-000000000000"], withKey())).code).toBe(1);
  });
});

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** The files a deployment's pod uploaded, as the API host stores them (ARTIFACT_DIR/<id>/...), by path. */
/** The run's outputs as stored, less its checkpoints (`checkpoints/…`: optimizer state for a resume, which the
 * artifact list and `trainpod pull` leave out; the files stay downloadable by path). */
function storedArtifacts(id: string): Map<string, Buffer> {
  const root = path.join(sys.config.env.ARTIFACT_DIR, id);
  const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const all = files.map((e): [string, Buffer] => [
    path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join("/"),
    readFileSync(path.join(e.parentPath, e.name)),
  ]);
  return new Map(all.filter(([rel]) => !rel.startsWith("checkpoints/")));
}

interface Seen {
  method: string;
  url: string;
  range?: string;
  ifRange?: string;
  status?: number;
}

/** A pass-through proxy in front of the real API that records what the CLI asked and what the API answered. */
async function recordingProxy(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const target = new URL(sys.apiUrl);
  const server = http.createServer((req, res) => {
    const entry: Seen = {
      method: req.method ?? "",
      url: req.url ?? "",
      range: req.headers.range,
      ifRange: req.headers["if-range"] as string | undefined,
    };
    seen.push(entry);
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        entry.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe("the trainpod CLI gets the model: artifacts, pull, deploy --pull", () => {
  let id: string;
  let stored: Map<string, Buffer>;
  const MODEL = "adapter_model.safetensors";

  it("deploy --pull DIR waits for the run and pulls every artifact, sha256 verified, into DIR", async () => {
    const out = path.join(dir, "pulled-by-deploy");
    const dep = await cli(
      [
        "deploy",
        "--yes",
        "--dataset",
        datasetId,
        "--model",
        "tiny-llama",
        "--gpu",
        "NVIDIA A40",
        "--hp",
        "steps=3",
        "--hp",
        "sim_step_ms=50",
        "--pull",
        out,
      ],
      withKey(),
    );
    expect({ code: dep.code, stderr: dep.stderr }).toMatchObject({ code: 0 });
    id = /deployment ([0-9a-f-]{36}) QUEUED/.exec(dep.stdout)?.[1] ?? "";
    expect(dep.stdout).toMatch(new RegExp(`${id} {2}SUCCEEDED`));
    stored = storedArtifacts(id);
    expect([...stored.keys()]).toEqual(expect.arrayContaining(["adapter_config.json", MODEL, "trainer_state.json"]));
    // the run checkpointed (the default: a tenth of its steps), and the pull left the checkpoints out
    expect(readdirSync(path.join(sys.config.env.ARTIFACT_DIR, id))).toContain("checkpoints");
    expect(readdirSync(out)).not.toContain("checkpoints");
    for (const [rel, bytes] of stored) {
      expect(readFileSync(path.join(out, rel)).equals(bytes)).toBe(true);
      // not a terminal: one plain line per file on stderr
      expect(dep.stderr).toContain(`${rel}: `);
    }
    expect(dep.stderr).toMatch(new RegExp(`${MODEL.replace(".", "\\.")}: [\\d.]+ (B|KiB) downloaded, sha256 verified`));
    const total = [...stored.values()].reduce((n, b) => n + b.length, 0);
    expect(dep.stdout).toContain(`${out}: ${stored.size} files, ${total} bytes`);
    expect(dep.stdout).toMatch(/sha256 verified\n$/);
    expect(readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith(".part"))).toEqual([]);
  }, 60_000);

  it("artifacts lists path, size, short sha256 and the total; --json the list; an unknown or another user's deployment is `no such deployment`", async () => {
    const l = await cli(["artifacts", id], withKey());
    expect(l.code).toBe(0);
    for (const [rel, bytes] of stored)
      expect(l.stdout).toMatch(
        new RegExp(`^${rel.replace(".", "\\.")} +[\\d.]+ (B|KiB) +${sha256(bytes).slice(0, 12)} +\\d{4}-`, "m"),
      );
    expect(l.stdout).toContain(`${stored.size} files`);
    const j = JSON.parse((await cli(["artifacts", id, "--json"], withKey())).stdout);
    expect(j.items.map((f: { path: string }) => f.path).sort()).toEqual([...stored.keys()].sort());
    expect(Number(j.totalBytes)).toBe([...stored.values()].reduce((n, b) => n + b.length, 0));

    const unknown = await cli(["artifacts", "00000000-0000-4000-8000-000000000000"], withKey());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no such deployment: 00000000-0000-4000-8000-000000000000/);
    const other = (await createUserWithKey(sys.db.prisma, { email: "cli-other@example.com", role: "USER" })).key;
    const foreign = await cli(["pull", id, path.join(dir, "foreign")], withKey({ TRAINPOD_API_KEY: other }));
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/no such deployment/);
    expect(existsSync(path.join(dir, "foreign"))).toBe(false);
  });

  it("pull resumes a truncated .part with Range + If-Range (206, appended), skips files already there, and ends with the right bytes", async () => {
    const out = path.join(dir, "pulled");
    const first = await cli(["pull", id, out, "--json"], withKey());
    expect(first.code).toBe(0);
    const files = JSON.parse(first.stdout).files as Array<{ path: string; sha256: string; outcome: string }>;
    expect(files.map((f) => [f.path, f.sha256, f.outcome]).sort()).toEqual(
      [...stored].map(([rel, b]) => [rel, sha256(b), "downloaded"]).sort(),
    );

    // the pull broke halfway through the model: a .part with its first half, no file
    const model = stored.get(MODEL) as Buffer;
    const half = Math.floor(model.length / 2);
    unlinkSync(path.join(out, MODEL));
    writeFileSync(path.join(out, `${MODEL}.part`), model.subarray(0, half));
    const proxy = await recordingProxy();
    try {
      const again = await cli(["pull", id, out, "--json"], withKey({ TRAINPOD_API_URL: proxy.url }));
      expect({ code: again.code, stderr: again.stderr }).toMatchObject({ code: 0 });
      const outcomes = Object.fromEntries(
        (JSON.parse(again.stdout).files as Array<{ path: string; outcome: string }>).map((f) => [f.path, f.outcome]),
      );
      expect(outcomes).toEqual(
        Object.fromEntries([...stored.keys()].map((rel) => [rel, rel === MODEL ? "resumed" : "present"])),
      );
      expect(again.stderr).toContain(`${MODEL}: `);
      expect(again.stderr).toContain(`resumed from byte ${half}, sha256 verified`);
      const downloads = proxy.seen.filter((s) => s.url.startsWith(`/v1/deployments/${id}/artifacts/`));
      expect(downloads).toEqual([
        {
          method: "GET",
          url: `/v1/deployments/${id}/artifacts/${MODEL}`,
          range: `bytes=${half}-`,
          ifRange: `"sha256-${sha256(model)}"`,
          status: 206,
        },
      ]);
    } finally {
      await proxy.close();
    }
    expect(readFileSync(path.join(out, MODEL)).equals(model)).toBe(true);
    expect(existsSync(path.join(out, `${MODEL}.part`))).toBe(false);
  });

  it("a .part whose bytes are not the file's fails with exit 1 naming the file, deletes the .part, and the next pull gets it right", async () => {
    const out = path.join(dir, "corrupt");
    const model = stored.get(MODEL) as Buffer;
    const bad = Buffer.from(model.subarray(0, 100)).fill(0x41, 50, 60);
    rmSync(out, { recursive: true, force: true });
    await cli(["pull", id, out], withKey());
    unlinkSync(path.join(out, MODEL));
    writeFileSync(path.join(out, `${MODEL}.part`), bad);
    const failed = await cli(["pull", id, out], withKey());
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      new RegExp(
        `${MODEL.replace(".", "\\.")}: checksum mismatch: sha256 [0-9a-f]{64}, the list says ${sha256(model)}`,
      ),
    );
    expect(existsSync(path.join(out, `${MODEL}.part`))).toBe(false);
    expect(existsSync(path.join(out, MODEL))).toBe(false);
    const again = await cli(["pull", id, out], withKey());
    expect(again.code).toBe(0);
    expect(readFileSync(path.join(out, MODEL)).equals(model)).toBe(true);
  });

  it("deploy --wait --pull on a run that FAILED exits 3 and pulls nothing; artifacts says there are none yet", async () => {
    const out = path.join(dir, "never");
    const run = await cli(
      [
        "deploy",
        "--yes",
        "--wait",
        "--dataset",
        datasetId,
        "--model",
        "m",
        "--gpu",
        "NVIDIA A40",
        "--hp",
        "steps=5",
        "--hp",
        "sim_step_ms=50",
        "--hp",
        "sim_fail_at_step=2",
        "--pull",
        out,
      ],
      withKey(),
    );
    expect(run.code).toBe(3);
    expect(existsSync(out)).toBe(false);
    const failedId = /deployment ([0-9a-f-]{36}) QUEUED/.exec(run.stdout)?.[1] ?? "";
    const l = await cli(["artifacts", failedId], withKey());
    expect(l.code).toBe(0);
    expect(l.stdout).toMatch(/has no artifacts yet/);
    const p = await cli(["pull", failedId, out], withKey());
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/has no artifacts yet/);
  }, 60_000);

  it("once the owner deleted the artifacts, artifacts says so and pull fails saying why", async () => {
    const del = await fetch(`${sys.apiUrl}/v1/deployments/${id}/artifacts`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(del.status).toBe(204);
    const l = await cli(["artifacts", id], withKey());
    expect(l.code).toBe(0);
    expect(l.stdout).toMatch(/were deleted by their owner on \d{4}-/);
    const p = await cli(["pull", id, path.join(dir, "after-delete")], withKey());
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/were deleted by their owner/);
  });
});
