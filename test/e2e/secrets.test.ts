import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI_BIN, type CliRun } from "../support/cli-process";
import { startSystem, type System } from "../support/system";
import { TestClient, until, type Json } from "./support/client";

let sys: System;
let alice: TestClient;
let dir: string;
// a Hugging Face-looking token, and one that looks like nothing (no redaction pattern can know it)
const HF_VALUE = `hf_${randomBytes(18).toString("hex")}`;
const PLAIN_VALUE = `plain-${randomBytes(12).toString("hex")}`;

/** The CLI as its own process with `stdin` piped in (no terminal). */
function cli(args: string[], stdin = ""): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        TRAINPOD_CONFIG_DIR: path.join(dir, "config"),
        TRAINPOD_API_URL: sys.apiUrl,
        TRAINPOD_API_KEY: alice.key,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Every row of every table of the database, as JSON text (bytea as \x hex). */
async function databaseText(): Promise<string> {
  const tables = await sys.db.prisma.$queryRaw<Array<{ name: string }>>`
    SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["UserSecret", "Deployment", "DeploymentEvent"]));
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await sys.db.prisma.$queryRawUnsafe<Array<{ j: string }>>(
      `SELECT row_to_json(t)::text AS j FROM "${name.replace(/"/g, '""')}" t`,
    );
    parts.push(...rows.map((r) => r.j));
  }
  return parts.join("\n");
}

/** Where a value shows up: as itself, URL-encoded, or as the hex of its bytes (a bytea column in clear). */
function holders(places: Record<string, string>, value: string): string[] {
  const forms = [value, encodeURIComponent(value), Buffer.from(value).toString("hex")];
  return Object.entries(places)
    .filter(([, text]) => forms.some((f) => text.includes(f)))
    .map(([where]) => where);
}

beforeAll(async () => {
  // one pod at a time per user: the second deployment waits QUEUED behind the first (the deleted-secret case)
  sys = await startSystem({ env: { USER_MAX_LIVE_DEPLOYMENTS: "1" } });
  alice = await TestClient.create(sys, "secrets@example.com");
  dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-secrets-"));
}, 60_000);

afterAll(async () => {
  await sys?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("users' secrets, end to end on the simulator", () => {
  it("the CLI sets a secret from piped stdin (never from an argument), lists names only, removes", async () => {
    const set = await cli(["secrets", "set", "HF_TOKEN"], `${HF_VALUE}\n`);
    expect(set).toMatchObject({ code: 0, stdout: "secret HF_TOKEN set (new)\n" });
    const asArgument = await cli(["secrets", "set", "OTHER", PLAIN_VALUE]);
    expect(asArgument.code).toBe(2);
    expect((await cli(["secrets", "set", "EMPTY"], "")).code).toBe(2);
    expect((await cli(["secrets", "set", "PATH"], "x\n")).stderr).toMatch(/UNPROCESSABLE \(HTTP 422\): PATH cannot be/);
    expect((await cli(["secrets", "set", "TEMP"], "temporary\n")).code).toBe(0);
    const list = await cli(["secrets", "list", "--json"]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Json[]).map((s) => s.name)).toEqual(["HF_TOKEN", "TEMP"]);
    expect(list.stdout).not.toContain(HF_VALUE);
    expect(await cli(["secrets", "rm", "TEMP"])).toMatchObject({ code: 0, stdout: "secret TEMP deleted\n" });
    expect((await cli(["secrets", "rm", "TEMP"])).stderr).toMatch(/NOT_FOUND \(HTTP 404\)/);
    expect((await alice.api("POST", "/v1/secrets", { name: "MY_PLAIN", value: PLAIN_VALUE })).status).toBe(201);
  });

  it("an unknown secret name is 422 before anything is written", async () => {
    const before = await sys.db.prisma.deployment.count();
    const sub = await alice.submit({ steps: 2 }, { secrets: ["HF_TOKEN", "NEVER_SET"] });
    expect(sub.status).toBe(422);
    expect(sub.body.error.details.problems).toEqual([
      expect.objectContaining({ code: "SECRET_NOT_FOUND", field: "secrets.1" }),
    ]);
    expect(await sys.db.prisma.deployment.count()).toBe(before);
    expect((await sys.sim.admin("/admin/pods").then((r) => r.json())) as unknown[]).toHaveLength(0);
  });

  it("the pod's env has the secrets it names; their values reach no log, no API answer and no column in clear", async () => {
    const sub = await alice.submit({ steps: 30, sim_step_ms: 100 }, { secrets: ["HF_TOKEN", "MY_PLAIN"] });
    expect(sub.status).toBe(202);
    expect(sub.body.secrets).toEqual(["HF_TOKEN", "MY_PLAIN"]);
    const running = await until("running", async () => {
      const d = await alice.get(sub.body.id);
      return d.status === "RUNNING" ? d : null;
    });
    // the simulator's unauthenticated /admin shows each env value's sha256, never the value
    const pod = (await (await sys.sim.admin(`/admin/pods/${running.pod.id}`)).json()) as Json;
    const runpodPod = JSON.stringify(await sys.worker.runpod.getPod(running.pod.id)); // while it runs
    const sha = (v: string) => createHash("sha256").update(v).digest("hex");
    expect(pod.envSha256).toMatchObject({
      HF_TOKEN: sha(HF_VALUE),
      MY_PLAIN: sha(PLAIN_VALUE),
      TRAINPOD_SECRET_NAMES: sha("HF_TOKEN,MY_PLAIN"),
    });
    const podLogs = await until("the pod's log lines", async () => {
      const res = await fetch(`${sys.apiUrl}/v1/deployments/${sub.body.id}/logs?tail=500`, {
        headers: { authorization: `Bearer ${alice.key}` },
      });
      const body = await res.text();
      return res.status === 200 && body.includes('"source":"container"') ? body : null;
    });
    const d = await alice.settled(sub.body.id);
    expect(d.status).toBe("SUCCEEDED");
    const answers: Record<string, string> = {
      "pod logs endpoint": podLogs,
      "deployment view (events included)": JSON.stringify(d),
      "deployment list": JSON.stringify((await alice.api("GET", "/v1/deployments")).body),
      "secrets list": JSON.stringify((await alice.api("GET", "/v1/secrets")).body),
      "simulator's container log": await (await sys.sim.admin(`/admin/pods/${running.pod.id}/logs`)).text(),
      "api and worker logs": sys.logs.join("\n"),
      database: await databaseText(),
    };
    // the search finds a value where it is (RunPod's own record of the pod's env, behind its API key: RunPod's
    // business), and not in the simulator's unauthenticated /admin view
    expect(holders({ "RunPod's pod": runpodPod, "simulator's /admin pod": JSON.stringify(pod) }, HF_VALUE)).toEqual([
      "RunPod's pod",
    ]);
    expect(answers["api and worker logs"]).toContain(sub.body.id); // the logs were captured
    expect(answers.database).toContain('"secretNames":["HF_TOKEN","MY_PLAIN"]');
    for (const value of [HF_VALUE, PLAIN_VALUE])
      expect({ value, holders: holders(answers, value) }).toEqual({ value, holders: [] });
  });

  it("a secret deleted between submission and launch fails the deployment by name, with no pod created", async () => {
    const first = await alice.submit({ steps: 400, sim_step_ms: 100 });
    await until("first running", async () => (await alice.get(first.body.id)).status === "RUNNING");
    expect((await alice.api("POST", "/v1/secrets", { name: "SHORT_LIVED", value: "short-lived-value" })).status).toBe(
      201,
    );
    const second = await alice.submit({ steps: 2 }, { secrets: ["SHORT_LIVED"] });
    expect(second.status).toBe(202);
    expect((await alice.get(second.body.id)).status).toBe("QUEUED"); // waits for alice's one slot
    const deleted = await fetch(`${sys.apiUrl}/v1/secrets/SHORT_LIVED`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(deleted.status).toBe(204);
    await alice.api("POST", `/v1/deployments/${first.body.id}/cancel`);
    const failed = await until("second failed", async () => {
      const d = await alice.get(second.body.id);
      return d.status === "FAILED" ? d : null;
    });
    expect(failed.failureReason).toBe("INTERNAL_ERROR");
    expect(failed.failureMessage).toBe(
      "the deployment's secret SHORT_LIVED was deleted after it was submitted: set it again (POST /v1/secrets) and submit again",
    );
    expect(failed.pod.id).toBeNull();
    expect(await sys.db.prisma.runToken.count({ where: { deploymentId: second.body.id } })).toBe(0);
  });
});
