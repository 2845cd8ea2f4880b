/**
 * `npx tsx --conditions=development bench/spend-control.ts`  (BENCH_QUICK=1: a few seconds; SPEND_USERS=5)
 * POST /v1/deployments per second with the monthly budget off (USER_MONTHLY_BUDGET_USD=0: the user's limits read,
 * one INSERT, no transaction) against on (the default, 1000: besides, a transaction that takes the user's advisory
 * lock, reads their limits and their month's spend, then INSERTs; the output says how the code takes the lock), with
 * one user and with SPEND_USERS users, bench #1's way: autocannon in its own process (bench/multi-user-cannon.ts),
 * 50 connections spread evenly over the users, alternating rounds of 7 s after a 2 s warm-up, API only (no worker).
 * Two bench systems (bench/support.ts), one per setting, both in this process; only one is loaded at a time.
 * On, the bench users get a budget of 100,000,000 USD (an admin's per-user override) so that every check runs in full
 * and none refuses; one more user keeps the default 1000 and is filled to it (100 x $10) before its round: from then
 * on every submission is refused 422 BUDGET_LIMIT, with 100 live deployments, production's case.
 * Every round starts from an empty Deployment table (TRUNCATE, both systems): the spend query reads the user's
 * live deployments, which pile up during a round (no worker), so rounds must start alike.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pool } from "pg";
import { createUserWithKey, setUserLimits, systemClock, userSpend } from "@trainpod/core";
import { multiUserCannon, type Cannon } from "./multi-user-cannon";
import { fmt, main, median, processCpuMs, QUICK, report, sleep, startBenchSystem } from "./support";
import type { BenchSystem, Row } from "./support";

const CONNECTIONS = 50;
const USERS = Number(process.env.SPEND_USERS ?? 5);
const ROUNDS = QUICK ? 1 : 3;
const ROUND_SECONDS = QUICK ? 3 : 7;
const BIG_BUDGET_USD = "100000000";
const DATASET =
  '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n{"messages":[{"role":"user","content":"2+2?"},{"role":"assistant","content":"4"}]}';

interface User {
  id: string;
  key: string;
  body: string;
}

/** bench #1's request (support's deploymentBody), for this dataset: maxCostUsd 10 */
const body = (datasetId: string): string => {
  const request = {
    datasetId,
    baseModel: "tiny-llama",
    gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
    hyperparameters: { steps: 1 },
  };
  return JSON.stringify({ ...request, maxRuntimeMinutes: 60, maxCostUsd: "10" });
};

async function addUser(sys: BenchSystem, name: string): Promise<User> {
  const { user, key } = await createUserWithKey(sys.db.prisma, { email: `${name}@example.com`, role: "USER" });
  const up = await fetch(`${sys.apiUrl}/v1/datasets?name=bench`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
    body: DATASET,
  });
  if (up.status !== 201) throw new Error(`dataset upload: ${up.status} ${await up.text()}`);
  return { id: user.id, key, body: body(((await up.json()) as { id: string }).id) };
}

interface Scenario {
  name: string;
  sys: BenchSystem;
  pool: Pool;
  users: User[];
  /** before the round (after the TRUNCATE) */
  prepare?: () => Promise<void>;
  rounds: Cannon[];
  tx: number[];
  cpu: number[];
  locks: LockSamples[];
  /** the most deployments one user had at the end of the round, and userSpend's time for that user then */
  rowsPerUser: number[];
  spendMs: number[];
}

const xacts = async (pool: Pool): Promise<number> => {
  await sleep(1200); // pg_stat_database is flushed within ~1 s
  const r = await pool.query<{ n: string }>(
    "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  return Number(r.rows[0]?.n ?? NaN);
};

interface LockSamples {
  /** advisory locks waited for (pg_advisory_xact_lock blocks; a pg_try_ one never waits), mean and max */
  waitMean: number;
  waitMax: number;
  /** advisory locks held: mean, and the share of samples with at least one */
  heldMean: number;
  heldShare: number;
  queries: number;
}

/** pg_locks of this database every 50 ms during a round */
function sampleLocks(pool: Pool): { stop(): Promise<LockSamples> } {
  const waiting: number[] = [];
  const held: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await pool.query<{ waiting: string; held: string }>(
        `SELECT count(*) FILTER (WHERE NOT granted) AS waiting, count(*) FILTER (WHERE granted) AS held FROM pg_locks
          WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      waiting.push(Number(r.rows[0]?.waiting ?? 0));
      held.push(Number(r.rows[0]?.held ?? 0));
      await sleep(50);
    }
  })();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    async stop() {
      running = false;
      await loop;
      return {
        waitMean: mean(waiting),
        waitMax: Math.max(0, ...waiting),
        heldMean: mean(held),
        heldShare: held.filter((n) => n > 0).length / Math.max(1, held.length),
        queries: held.length,
      };
    },
  };
}

async function round(s: Scenario, seconds: number, measured: boolean): Promise<void> {
  await s.pool.query('TRUNCATE "Deployment" CASCADE');
  await s.prepare?.();
  const x0 = await xacts(s.pool);
  const cpu0 = processCpuMs();
  const sampler = sampleLocks(s.pool);
  const c = await multiUserCannon(`${s.sys.apiUrl}/v1/deployments`, s.users, CONNECTIONS, seconds);
  const cpu = processCpuMs() - cpu0;
  const locks = await sampler.stop();
  const x1 = await xacts(s.pool);
  if (!measured) return;
  const answered = c.ok + c.non2xx;
  s.rounds.push(c);
  s.cpu.push(cpu / answered);
  s.tx.push((x1 - x0 - 1 - locks.queries) / answered); // -1: the first stats query's own transaction
  s.locks.push(locks);
  const perUser = await s.pool.query<{ userId: string; n: string }>(
    'SELECT "userId", count(*) AS n FROM "Deployment" GROUP BY 1 ORDER BY 2 DESC LIMIT 1',
  );
  const top = perUser.rows[0];
  s.rowsPerUser.push(Number(top?.n ?? 0));
  if (top) {
    const times: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = process.hrtime.bigint();
      await userSpend(s.sys.db.prisma, top.userId, systemClock.now());
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    s.spendMs.push(median(times));
  }
}

/** which code is measured: the commit, whether the submit path differs from it, and the lock call it makes */
function codeUnderTest(): string {
  const root = path.resolve(__dirname, "..");
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  const spendFile = "packages/core/src/spend/month-spend.ts";
  const text = readFileSync(path.join(root, spendFile), "utf8");
  const lock = /pg_try_advisory_xact_lock/.test(text)
    ? "pg_try_advisory_xact_lock (tried, retried after a pause)"
    : "pg_advisory_xact_lock (waited for)";
  const dirty = git("status", "--porcelain", "--", "packages/core/src", "apps/api/src")
    .split("\n")
    .filter(Boolean).length;
  return `commit ${git("rev-parse", "--short", "HEAD")}, ${dirty} changed files in packages/core/src and apps/api/src; lock: ${lock}; ${path.basename(spendFile)} sha256 ${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;
}

main(async () => {
  const code = codeUnderTest();
  const load = os.loadavg();
  const off = await startBenchSystem({ worker: false, env: { USER_MONTHLY_BUDGET_USD: "0" } });
  const on = await startBenchSystem({ worker: false, env: { USER_MONTHLY_BUDGET_USD: "1000" } }); // the default
  const pools = [off, on].map((sys) => new Pool({ connectionString: sys.db.url, max: 2 })) as [Pool, Pool];
  try {
    const usersOf = async (sys: BenchSystem): Promise<User[]> => {
      const first = { id: sys.user.id, key: sys.user.key, body: body(sys.user.datasetId) };
      const more = [];
      for (let i = 1; i < USERS; i++) more.push(await addUser(sys, `bench${i}`));
      return [first, ...more];
    };
    const offUsers = await usersOf(off);
    const onUsers = await usersOf(on);
    for (const u of onUsers) await setUserLimits(on.db.prisma, u.id, { monthlyBudgetUsd: BIG_BUDGET_USD });
    const capped = await addUser(on, "capped"); // the default budget, 1000 USD
    const fillCapped = async () => {
      for (let i = 0; i < 100; i++) {
        const r = await fetch(`${on.apiUrl}/v1/deployments`, {
          method: "POST",
          headers: { authorization: `Bearer ${capped.key}`, "content-type": "application/json" },
          body: capped.body,
        });
        if (r.status !== 202) throw new Error(`filling the capped user: ${r.status} ${await r.text()}`);
      }
    };
    const scenario = (name: string, sys: BenchSystem, pool: Pool, users: User[], prepare?: () => Promise<void>) =>
      ({
        name,
        sys,
        pool,
        users,
        prepare,
        rounds: [],
        tx: [],
        cpu: [],
        locks: [],
        rowsPerUser: [],
        spendMs: [],
      }) as Scenario;
    const scenarios = [
      scenario("off, 1 user", off, pools[0], offUsers.slice(0, 1)),
      scenario("on, 1 user", on, pools[1], onUsers.slice(0, 1)),
      scenario(`off, ${USERS} users`, off, pools[0], offUsers),
      scenario(`on, ${USERS} users`, on, pools[1], onUsers),
      scenario("on, 1 user at its budget (default 1000, 100 live)", on, pools[1], [capped], fillCapped),
    ];
    // warm-up: JIT, pools, Redis scripts
    for (const s of scenarios.slice(0, 2)) await round(s, 2, false);
    for (let i = 0; i < ROUNDS; i++) for (const s of scenarios) await round(s, ROUND_SECONDS, true);

    const rate = (c: Cannon) => c.ok / c.seconds;
    const answeredRate = (c: Cannon) => (c.ok + c.non2xx) / c.seconds;
    const rows: Row[] = [];
    const med = (s: Scenario) => median(s.rounds.map(rate));
    const codes = (s: Scenario) => {
      const all: Record<string, number> = {};
      for (const c of s.rounds) for (const [k, v] of Object.entries(c.codes ?? {})) all[k] = (all[k] ?? 0) + v;
      return Object.entries(all)
        .map(([k, v]) => `${k}: ${fmt(v)}`)
        .join(", ");
    };
    const ofLocks = (s: Scenario, f: (l: LockSamples) => number) => median(s.locks.map(f));
    for (const s of scenarios) {
      const add = (metric: string, value: string) => rows.push({ bench: `spend ${s.name}`, metric, value });
      if (s.prepare)
        add("answered/s, all 422 BUDGET_LIMIT (median of rounds)", fmt(median(s.rounds.map(answeredRate))));
      else add("accepted/s (median of rounds)", fmt(med(s)));
      add("p50 / p99 latency", `${median(s.rounds.map((c) => c.p50))} / ${median(s.rounds.map((c) => c.p99))} ms`);
      add(
        "Postgres transactions / API CPU per answered request",
        `${median(s.tx).toFixed(2)} / ${median(s.cpu).toFixed(3)} ms`,
      );
      const held = `${ofLocks(s, (l) => l.heldMean).toFixed(2)}, ${fmt(100 * ofLocks(s, (l) => l.heldShare))}%`;
      const waiting = `${ofLocks(s, (l) => l.waitMean).toFixed(1)}, ${fmt(ofLocks(s, (l) => l.waitMax))}`;
      add("advisory locks held: mean, share of 50 ms samples with one / waiters: mean, max", `${held} / ${waiting}`);
      add(
        "deployments of the busiest user at the end / userSpend then",
        `${fmt(median(s.rowsPerUser))} / ${median(s.spendMs).toFixed(1)} ms`,
      );
      add("status codes (all rounds) + errors", `${codes(s)}; errors ${s.rounds.reduce((n, c) => n + c.errors, 0)}`);
    }
    const [off1, on1, offN, onN] = scenarios as [Scenario, Scenario, Scenario, Scenario];
    rows.push(
      { bench: "spend ratio", metric: "on/off accepted/s, 1 user", value: (med(on1) / med(off1)).toFixed(2) },
      { bench: "spend ratio", metric: `on/off accepted/s, ${USERS} users`, value: (med(onN) / med(offN)).toFixed(2) },
    );
    const loads = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
    report(rows, [
      `code: ${code}; load average at start ${loads(load)}, at end ${loads(os.loadavg())}`,
      `${CONNECTIONS} connections over the users, ${ROUNDS} alternating rounds x ${ROUND_SECONDS} s per scenario (+2 s warm-up off and on, 1 user), each from an empty Deployment table`,
      ...scenarios.map(
        (s) =>
          `${s.name}: per round/s ${s.rounds.map((c) => fmt(s.prepare ? answeredRate(c) : rate(c))).join(", ")}; busiest user's deployments at the end ${s.rowsPerUser.map((n) => fmt(n)).join(", ")}; userSpend ${s.spendMs.map((x) => x.toFixed(1)).join(", ")} ms`,
      ),
    ]);
  } finally {
    for (const p of pools) await p.end();
    await off.stop();
    await on.stop();
  }
});
