import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../support/free-port";
import { databaseUrl } from "../support/pg-admin";
import { envWithout, runEntry } from "../support/start-process";
import { TEST_REDIS_URL } from "../support/test-redis";

// Issue 31 item 2: the API and the worker check PostgreSQL and Redis at start and exit non-zero with one message
// naming the ways to get the missing one, instead of logging connection errors until stopped; npm start stops the
// same way when it has no Redis to use or start, and uses a DATABASE_URL that is set or stops (never switching).
// Nothing is written: the processes stop at their start-up check (the server's maintenance database answers it).
const PG_URL = databaseUrl("postgres");
let closedPort: number;
let work: string;

beforeAll(async () => {
  closedPort = await freePort(); // nothing listens there
  work = mkdtempSync(path.join(os.tmpdir(), "trainpod-services-missing-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const REDIS_WAYS = ["docker compose up -d redis", "apt install redis-server", "brew install redis"];

describe.each([
  ["api", "apps/api/src/main.ts", "api failed to start"],
  ["worker", "apps/worker/src/main.ts", "worker failed to start"],
])("the %s without Redis", (_name, entry, prefix) => {
  it("exits with code 1 and the one message that names the ways to get Redis", async () => {
    const redisUrl = `redis://127.0.0.1:${closedPort}`;
    const r = await runEntry(
      entry,
      envWithout([], { DATABASE_URL: PG_URL, REDIS_URL: redisUrl, WORKER_METRICS_PORT: "0", API_PORT: "0" }),
      60_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${prefix}: Redis does not answer at ${redisUrl} (`);
    for (const way of REDIS_WAYS) expect(r.stderr).toContain(way);
    expect(r.stderr).not.toContain("PostgreSQL does not answer"); // the database answered
    // no warning loop before the exit
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/queue error|redis connection error/);
  }, 70_000);
});

it("the worker without PostgreSQL exits with code 1 and the ways to get it (not after a minute of retries)", async () => {
  const pgUrl = `postgresql://postgres:hunter2-secret@127.0.0.1:${closedPort}/trainpod`;
  const r = await runEntry(
    "apps/worker/src/main.ts",
    envWithout([], { DATABASE_URL: pgUrl, REDIS_URL: TEST_REDIS_URL, WORKER_METRICS_PORT: "0" }),
    40_000, // waitForDatabase alone would retry for 60 s
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    `PostgreSQL does not answer at postgresql://postgres:***@127.0.0.1:${closedPort}/trainpod`,
  );
  expect(r.stderr).toContain("docker compose up -d postgres");
  expect(r.stderr).not.toContain("hunter2-secret");
  expect(r.stderr).not.toContain("Redis does not answer");
}, 50_000);

describe("npm start (scripts/start.ts)", () => {
  it("with REDIS_URL unset, nothing on the default address and no redis-server on PATH: exits 1 with the ways to get Redis", async () => {
    const r = await runEntry(
      "scripts/start.ts",
      envWithout(["DATABASE_URL", "REDIS_URL"], {
        PATH: path.join(work, "empty-bin"), // no redis-server
        TRAINPOD_DEFAULT_REDIS_URL: `redis://127.0.0.1:${closedPort}`,
        TRAINPOD_DEFAULT_DATABASE_URL: `postgresql://postgres@127.0.0.1:${closedPort}/trainpod`,
        TRAINPOD_LOCAL_DIR: path.join(work, "no-redis"),
      }),
      60_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Redis does not answer at redis://127.0.0.1:${closedPort} (nothing answers there and there is no redis-server on PATH)`,
    );
    for (const way of REDIS_WAYS) expect(r.stderr).toContain(way);
    // it stopped before the database: no embedded PostgreSQL was initialised
    expect(existsSync(path.join(work, "no-redis", "postgres"))).toBe(false);
  }, 70_000);

  it("with a DATABASE_URL that is set but down: exits 1 saying so, and starts no embedded PostgreSQL in its place", async () => {
    const pgUrl = `postgresql://postgres@127.0.0.1:${closedPort}/trainpod`;
    const r = await runEntry(
      "scripts/start.ts",
      envWithout([], {
        DATABASE_URL: pgUrl,
        REDIS_URL: TEST_REDIS_URL,
        TRAINPOD_LOCAL_DIR: path.join(work, "set-but-down"),
      }),
      60_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `PostgreSQL does not answer at ${pgUrl} (DATABASE_URL is set and nothing answers on 127.0.0.1:${closedPort}; unset DATABASE_URL to let npm start run its own)`,
    );
    expect(r.stdout).not.toContain("embedded PostgreSQL");
    expect(existsSync(path.join(work, "set-but-down", "postgres"))).toBe(false);
  }, 70_000);
});
