/**
 * `npx tsx --conditions=development bench/submission.ts`  (BENCH_QUICK=1: a few seconds)
 * POST /v1/deployments throughput and latency with autocannon (50 connections, its own process)
 * against a baseline in the same run: a bare node:http server doing one parameterised pg INSERT
 * into a table of its own and one BullMQ `add`. Only the API runs (no worker): deploy jobs pile up
 * in the queue, and the queue prefix and database are deleted afterwards.
 */
import type { Cannon } from "./multi-user-cannon";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Queue } from "bullmq";
import { Pool } from "pg";
import { createRedis } from "@trainpod/core";
import { countPgTransactions } from "../test/support/pg-transactions";
import {
  deploymentBody,
  fmt,
  main,
  median,
  namedProcessesCpuMs,
  processCpuMs,
  processTreeCpuMs,
  QUICK,
  REDIS_URL,
  report,
  startBenchSystem,
  type BenchSystem,
} from "./support";

const CONNECTIONS = 50;
const ROUNDS = QUICK ? 1 : 3;
const ROUND_SECONDS = QUICK ? 3 : 7; // 3 alternating rounds of 7 s = 21 s of load per target

function autocannon(url: string, headers: Record<string, string>, body: string, seconds: number): Promise<Cannon> {
  const args = [
    require.resolve("autocannon/autocannon.js"),
    "-c",
    String(CONNECTIONS),
    "-d",
    String(seconds),
    "-m",
    "POST",
    "-b",
    body,
    "-j",
  ];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}=${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const r = JSON.parse(stdout) as {
        "2xx": number;
        non2xx: number;
        errors: number;
        timeouts: number;
        duration: number;
        latency: { p50: number; p99: number };
      };
      resolve({
        ok: r["2xx"],
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        seconds: r.duration,
        p50: r.latency.p50,
        p99: r.latency.p99,
      });
    });
  });
}

/** The minimum a submission needs: parse the body, one INSERT, one queue add, answer 202. */
async function startBaseline(sys: BenchSystem): Promise<{ url: string; pool: Pool; close(): Promise<void> }> {
  const pool = new Pool({ connectionString: sys.db.url, max: 10 }); // the API's Prisma pool is 10 too
  await pool.query(
    `CREATE TABLE bench_baseline (id uuid PRIMARY KEY, user_id uuid NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  const connection = createRedis(REDIS_URL, { failFast: true });
  const queue = new Queue("baseline", { connection, prefix: sys.prefix });
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
          const id = randomUUID();
          await pool.query("INSERT INTO bench_baseline (id, user_id, body) VALUES ($1, $2, $3)", [
            id,
            sys.user.id,
            body,
          ]);
          await queue.add("deploy", { deploymentId: id }, { jobId: id });
          res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id, status: "QUEUED" }));
        } catch (err) {
          res.writeHead(500).end(String(err));
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    pool,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await queue.close();
      connection.disconnect();
      await pool.end();
    },
  };
}

/** CPU of this process and the children it has reaped (autocannon), in ms */
const treeMs = () => processTreeCpuMs(process.pid);

main(async () => {
  const sys = await startBenchSystem({ worker: false });
  const baseline = await startBaseline(sys);
  try {
    const headers = { authorization: `Bearer ${sys.user.key}`, "content-type": "application/json" };
    const body = deploymentBody(sys, { steps: 1 });
    const api = `${sys.apiUrl}/v1/deployments`;
    // warm-up: JIT, pools, Redis scripts
    await autocannon(baseline.url, headers, body, 2);
    await autocannon(api, headers, body, 2);
    const runs: Record<"baseline" | "trainpod", Cannon[]> = { baseline: [], trainpod: [] };
    // Postgres transactions per accepted request, counted on this process's pg clients (the API's Prisma adapter
    // and the baseline's pool): pg_stat_database's counters, read before, were flushed by busy backends up to 10 s
    // late, so one round's transactions were counted in the next (the baseline's in trainpod's)
    const xacts = countPgTransactions();
    const tx: Record<"baseline" | "trainpod", number[]> = { baseline: [], trainpod: [] };
    // CPU of this process (the API or the baseline server; autocannon is its own process) per accepted request
    const cpu: Record<"baseline" | "trainpod", number[]> = { baseline: [], trainpod: [] };
    // and of the rest of the path, per accepted request: Postgres (its backends), Redis, autocannon (a child of this
    // process, counted once it exits): what the ratio is made of
    const others: Record<"baseline" | "trainpod", Array<{ pg: number; redis: number; client: number }>> = {
      baseline: [],
      trainpod: [],
    };
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, url] of [
        ["baseline", baseline.url],
        ["trainpod", api],
      ] as const) {
        await new Promise((r) => setTimeout(r, 1200)); // the pause between rounds the pg_stat reads made
        const x0 = xacts.count();
        const cpu0 = processCpuMs();
        const [pg0, redis0, tree0] = [namedProcessesCpuMs("postgres"), namedProcessesCpuMs("redis-server"), treeMs()];
        const c = await autocannon(url, headers, body, ROUND_SECONDS);
        const self = processCpuMs() - cpu0;
        cpu[name].push(self / c.ok);
        others[name].push({
          pg: (namedProcessesCpuMs("postgres") - pg0) / c.ok,
          redis: (namedProcessesCpuMs("redis-server") - redis0) / c.ok,
          client: (treeMs() - tree0 - self) / c.ok,
        });
        runs[name].push(c);
        tx[name].push((xacts.count() - x0) / c.ok);
      }
    }
    xacts.stop();
    const split = (name: "baseline" | "trainpod") =>
      [
        median(cpu[name]),
        median(others[name].map((o) => o.pg)),
        median(others[name].map((o) => o.redis)),
        median(others[name].map((o) => o.client)),
      ]
        .map((x) => x.toFixed(3))
        .join(" / ");
    const rate = (c: Cannon) => c.ok / c.seconds;
    const tp = median(runs.trainpod.map(rate));
    const bl = median(runs.baseline.map(rate));
    const p50 = median(runs.trainpod.map((c) => c.p50));
    const p99 = median(runs.trainpod.map((c) => c.p99));
    const bad = runs.trainpod.reduce((n, c) => n + c.non2xx + c.errors, 0);
    const queued = await sys.db.prisma.deployment.count();
    report(
      [
        {
          bench: "1 submission",
          metric: "trainpod accepted/s (median of rounds)",
          value: fmt(tp),
          target: ">= 1,500/s",
          met: tp >= 1500,
        },
        { bench: "1 submission", metric: "baseline accepted/s (pg INSERT + BullMQ add)", value: fmt(bl) },
        {
          bench: "1 submission",
          metric: "ratio trainpod/baseline",
          value: (tp / bl).toFixed(2),
          target: ">= 0.5",
          met: tp / bl >= 0.5,
        },
        { bench: "1 submission", metric: "trainpod p50 latency", value: `${p50} ms`, target: "", met: undefined },
        {
          bench: "1 submission",
          metric: "trainpod p99 latency",
          value: `${p99} ms`,
          target: "< 100 ms",
          met: p99 < 100,
        },
        {
          bench: "1 submission",
          metric: "baseline p50 / p99 latency",
          value: `${median(runs.baseline.map((c) => c.p50))} / ${median(runs.baseline.map((c) => c.p99))} ms`,
        },
        {
          bench: "1 submission",
          metric: "Postgres transactions per accepted request, trainpod / baseline",
          value: `${median(tx.trainpod).toFixed(2)} / ${median(tx.baseline).toFixed(2)}`,
        },
        {
          bench: "1 submission",
          metric: "server CPU per accepted request, trainpod / baseline",
          value: `${median(cpu.trainpod).toFixed(3)} / ${median(cpu.baseline).toFixed(3)} ms`,
        },
        {
          bench: "1 submission",
          metric: "CPU per accepted request: API / Postgres / Redis / autocannon, trainpod; baseline",
          value: `${split("trainpod")}; ${split("baseline")} ms`,
        },
        { bench: "1 submission", metric: "trainpod non-2xx + errors", value: String(bad), target: "0", met: bad === 0 },
      ],
      [
        `${CONNECTIONS} connections, ${ROUNDS} alternating rounds x ${ROUND_SECONDS} s per target (+2 s warm-up each); ${fmt(queued)} deployments written; per round trainpod/s: ${runs.trainpod.map((c) => fmt(rate(c))).join(", ")}; baseline/s: ${runs.baseline.map((c) => fmt(rate(c))).join(", ")}`,
      ],
    );
  } finally {
    await baseline.close();
    await sys.stop();
  }
});
