/**
 * `npx tsx --conditions=development bench/quota.ts [N=100]`  (BENCH_QUICK=1: N=25)
 * 429s under a 60/minute quota: the simulator with SIM_QUOTA={"minute":60} (one RunPod account),
 * THREE real worker processes (apps/worker/src/main.ts, as production runs them) sharing its rate
 * budget through Redis, the API in this process. N deployments are submitted at once (the trainer
 * `{"steps":1,"sim_step_ms":0}`), at most LIVE of them live at a time (USER_MAX_LIVE_DEPLOYMENTS: their
 * creates queue in the budget while outcomes keep landing); the sim says how many calls it refused with 429, the workers'
 * logs how many 429s reached a job as a failed attempt, the deployments how many did not succeed,
 * the workers' /metrics how long calls waited for the shared budget, and each deployment's outcome
 * (finishedAt) → the sim's DELETE of its pod (its terminatedAt) how long a finished pod kept billing.
 * QUOTA_BILLING_READERS=k (default 0) adds k loops of billing reads (normal calls) on the account's budget beside
 * the runs: a budget kept short (the billing job's backlog, creates retried under no capacity), where only the
 * priorities decide who waits.
 * Bounded: at most QUOTA_WAIT_MS for every deployment to close; whatever is left is reported.
 */
import { Redis } from "ioredis";
import { runpodClientForProcess } from "@trainpod/core";
import {
  callSplit,
  fmt,
  main,
  median,
  percentile,
  QUICK,
  report,
  startBenchSystem,
  until,
  deploymentBody,
} from "./support";
import { startWorkerProcesses } from "../test/support/worker-processes";

const N = Number(process.argv[2] ?? (QUICK ? 25 : 100));
const WORKERS = 3;
const QUOTA_PER_MINUTE = 60;
/** the longest the bench waits for every deployment to close (the quota allows ~25 deployments a minute) */
const QUOTA_WAIT_MS = QUICK ? 180_000 : 480_000;
const SUBMIT_CONCURRENCY = 10;
/** live runs at most (the workers' USER_MAX_LIVE_DEPLOYMENTS): outcomes land while creates queue in the budget */
const LIVE = 20;
const TRAINER = { steps: 1, sim_step_ms: 0 };
const READERS = Number(process.env.QUOTA_BILLING_READERS ?? 0);
/** issue 23: a finished run's pod is deleted within 5 s (p99) under this quota */
const OUTCOME_TO_DELETE_P99_MS = 5_000;

/** `n` loops of billing reads on the account's shared budget until `stop`; resolves with the reads done. */
async function billingReaders(sys: Awaited<ReturnType<typeof startBenchSystem>>, n: number, stop: AbortSignal) {
  if (n === 0) return 0;
  const redis = new Redis(sys.config.env.REDIS_URL, { maxRetriesPerRequest: 3 });
  const client = runpodClientForProcess({ config: sys.config, redis });
  let reads = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (!stop.aborted) {
        const endTime = new Date();
        await client
          .podBilling({ podId: "background", startTime: new Date(endTime.getTime() - 3_600_000), endTime })
          .then(() => (reads += 1))
          .catch(() => new Promise((r) => setTimeout(r, 500)));
      }
    }),
  );
  redis.disconnect();
  return reads;
}

/**
 * Each finished deployment's outcome → the sim's DELETE of its pod, ms; a pod not deleted yet counts as deleted now
 * (a lower bound: leaving it out would hide the longest waits), and is counted in `pending`.
 */
async function outcomeToDelete(
  sys: Awaited<ReturnType<typeof startBenchSystem>>,
): Promise<{ ms: number[]; pending: number }> {
  const pods = (await (await sys.sim.admin("/admin/pods")).json()) as Array<{
    id: string;
    terminatedAt: string | null;
  }>;
  const ended = new Map(pods.map((p) => [p.id, p.terminatedAt]));
  const rows = await sys.db.prisma.deployment.findMany({
    where: { finishedAt: { not: null }, podId: { not: null } },
    select: { podId: true, finishedAt: true },
  });
  const now = Date.now();
  let pending = 0;
  const ms = rows.flatMap((d) => {
    if (!d.finishedAt || !ended.has(d.podId ?? "")) return [];
    const end = ended.get(d.podId ?? "");
    if (!end) pending += 1;
    return [(end ? Date.parse(end) : now) - d.finishedAt.getTime()];
  });
  return { ms, pending };
}

/** Sum of a metric's samples (every label set) in Prometheus text, optionally only lines containing every one of `filters`. */
function metricSum(text: string, name: string, filters: string[]): number {
  return text
    .split("\n")
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && filters.every((f) => l.includes(f)))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

main(async () => {
  const sys = await startBenchSystem({
    worker: false,
    simEnv: { SIM_QUOTA: JSON.stringify({ minute: QUOTA_PER_MINUTE }) },
    // production's assumption (60 a minute) is this account's real quota
    env: { RUNPOD_RATE_LIMIT_PER_MINUTE: String(QUOTA_PER_MINUTE) },
  });
  const e = sys.config.env;
  const workers = await startWorkerProcesses(WORKERS, {
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    DATABASE_URL: e.DATABASE_URL,
    REDIS_URL: e.REDIS_URL,
    QUEUE_PREFIX: e.QUEUE_PREFIX,
    RUNPOD_API_URL: sys.sim.apiUrl,
    PUBLIC_URL: sys.apiUrl,
    DATASET_DIR: e.DATASET_DIR,
    ARTIFACT_DIR: e.ARTIFACT_DIR,
    RUNPOD_RATE_LIMIT_PER_MINUTE: String(QUOTA_PER_MINUTE),
    USER_MAX_LIVE_DEPLOYMENTS: String(LIVE),
  });
  try {
    // every worker up (its metrics server answers) before the clock starts
    await until(
      `${WORKERS} workers listening`,
      async () =>
        (
          await Promise.all(
            workers.metricsUrls.map((u) =>
              fetch(u).then(
                (r) => r.ok,
                () => false,
              ),
            ),
          )
        ).every(Boolean),
      60_000,
      250,
    );
    const before = await sys.simStats();
    const stopReaders = new AbortController();
    const reading = billingReaders(sys, READERS, stopReaders.signal);
    const t0 = performance.now();
    const submitMs: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
        while (next < N) {
          next += 1;
          const s = performance.now();
          const res = await fetch(`${sys.apiUrl}/v1/deployments`, {
            method: "POST",
            headers: { authorization: `Bearer ${sys.user.key}`, "content-type": "application/json" },
            body: deploymentBody(sys, TRAINER),
          });
          submitMs.push(performance.now() - s);
          if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
        }
      }),
    );
    const submittedMs = performance.now() - t0;
    const closed = () => sys.db.prisma.deployment.count({ where: { podTerminatedAt: { not: null } } });
    let timedOut = false;
    await until(`${N} deployments closed`, async () => (await closed()) >= N, QUOTA_WAIT_MS, 500).catch(
      () => (timedOut = true),
    );
    const wallMs = performance.now() - t0;
    stopReaders.abort();
    const after = await sys.simStats();
    const metrics = await Promise.all(workers.metricsUrls.map(async (u) => (await fetch(u)).text()));
    const closedN = await closed();
    const { ms: toDelete, pending } = await outcomeToDelete(sys);
    const backgroundReads = await reading;
    const p = (q: number) => fmt(percentile(toDelete, q) / 1000, 1);
    const outcomes = await sys.db.prisma.deployment.groupBy({ by: ["status", "failureReason"], _count: true });
    const succeeded = outcomes.filter((o) => o.status === "SUCCEEDED").reduce((a, o) => a + o._count, 0);
    const notSucceeded = N - succeeded;
    const split = callSplit(before, after);
    const rateLimited = Number(after.rateLimited ?? 0) - Number(before.rateLimited ?? 0);
    const sum = (name: string, ...filters: string[]) => metrics.reduce((s, t) => s + metricSum(t, name, filters), 0);
    const waitSum = sum("trainpod_runpod_rate_wait_seconds_sum");
    const waitCount = sum("trainpod_runpod_rate_wait_seconds_count");
    // per priority, waits that ended: count, seconds, over 5 s (urgent: DELETE; high: listings and reads by id,
    // which were urgent before 2026-12-07)
    const waits = (["urgent", "high", "normal"] as const).map((pr) => {
      const label = `priority="${pr}"`;
      const count = sum("trainpod_runpod_rate_wait_seconds_count", label);
      const over5 = count - sum("trainpod_runpod_rate_wait_seconds_bucket", 'le="5"', label);
      return `${pr} ${fmt(count)} (${sum("trainpod_runpod_rate_wait_seconds_sum", label).toFixed(1)} s in all, ${fmt(over5)} over 5 s)`;
    });
    const seen429 = sum("trainpod_runpod_api_calls_total", 'status="429"');
    const workerCalls = sum("trainpod_runpod_api_calls_total");
    const failedJobs = sum("trainpod_job_outcomes_total", 'outcome="failed"');
    // a 429 that the HTTP layer's retries did not absorb fails the job's attempt ("RunPod ... answered 429")
    const jobLines = workers.output.filter((l) => l.includes("job failed"));
    const jobs429 = jobLines.filter((l) => l.includes("answered 429") || l.includes("RUNPOD_RATE_LIMITED"));
    const final429 = jobs429.filter((l) => l.includes("final"));
    const periodic = split.listings;
    const perDep = split.total / N;
    const minutes = wallMs / 60_000;
    const rows = [
      {
        bench: "6 quota",
        metric: `429s the sim answered (quota ${QUOTA_PER_MINUTE}/min, ${WORKERS} worker processes, N=${N})`,
        value: String(rateLimited),
        target: "0",
        met: rateLimited === 0,
      },
      {
        bench: "6 quota",
        metric: "429s that reached a job as a failure / deployments not SUCCEEDED",
        value: `${jobs429.length} / ${notSucceeded}`,
        target: "0 / 0",
        met: jobs429.length === 0 && notSucceeded === 0,
      },
      {
        bench: "6 quota",
        metric: `outcome → DELETE (finishedAt → the sim's terminatedAt), p50 / p90 / p99 / max (${LIVE} live runs, N=${toDelete.length}, of them not deleted at the end ${pending})`,
        value: `${p(50)} / ${p(90)} / ${p(99)} / ${p(100)} s`,
        target: `p99 <= ${OUTCOME_TO_DELETE_P99_MS / 1000} s`,
        met: toDelete.length > 0 && percentile(toDelete, 99) <= OUTCOME_TO_DELETE_P99_MS,
      },
      {
        bench: "6 quota",
        metric: "RunPod calls per deployment (all / besides the periodic listings)",
        value: `${perDep.toFixed(2)} / ${((split.total - periodic) / N).toFixed(2)}`,
      },
      {
        bench: "6 quota",
        metric: "of which creates / deletes / catalog reads / listings / other",
        value: `${split.creates} / ${split.deletes} / ${split.catalog} / ${split.listings} / ${split.other}`,
      },
      {
        bench: "6 quota",
        metric: "shared-budget waits, workers' /metrics: seconds in all / count",
        value: `${waitSum.toFixed(1)} s / ${fmt(waitCount)}`,
      },
      {
        bench: "6 quota",
        metric: `wall time, first submission → all ${N} closed`,
        value: `${fmt(wallMs / 1000, 1)} s${timedOut ? ` (bound ${QUOTA_WAIT_MS / 1000} s reached, ${closedN} closed)` : ""}`,
      },
    ];
    report(rows, [
      `SIM_QUOTA={"minute":${QUOTA_PER_MINUTE}} (hour and day at the sim's defaults), SIM_BOOT_DELAY_MS=0; ${WORKERS} worker processes (NODE_ENV=production, WORKER_CONCURRENCY=${e.WORKER_CONCURRENCY} each, MONITOR_INTERVAL_MS=${e.MONITOR_INTERVAL_MS}, RECONCILE_INTERVAL_MS=${e.RECONCILE_INTERVAL_MS}, RUNPOD_CATALOG_TTL_SECONDS=${e.RUNPOD_CATALOG_TTL_SECONDS}, RUNPOD_RATE_LIMIT_PER_MINUTE=${QUOTA_PER_MINUTE}); API in the bench process on the same budget`,
      `trainer ${JSON.stringify(TRAINER)}, USER_MAX_LIVE_DEPLOYMENTS=${LIVE}, QUOTA_BILLING_READERS=${READERS} (${backgroundReads} background billing reads); ${N} submitted at once (${SUBMIT_CONCURRENCY} clients) in ${fmt(submittedMs)} ms, submission p50 / max ${fmt(median(submitMs))} / ${fmt(percentile(submitMs, 100))} ms; ${closedN}/${N} closed after ${fmt(wallMs)} ms (${(closedN / minutes).toFixed(1)} deployments/min); outcomes: ${outcomes.map((o) => `${o.status}${o.failureReason ? `/${o.failureReason}` : ""} ${o._count}`).join(", ")}`,
      `RunPod calls (${split.total}, ${(split.total / minutes).toFixed(1)}/min over the run): ${split.byRoute.join(", ")}; billing reads come BILLING_DELAY_MS (${fmt(e.BILLING_DELAY_MS)} ms) after each termination, after this run`,
      `workers: RunPod calls ${fmt(workerCalls)}, 429s their clients saw ${fmt(seen429)}; failed job attempts ${fmt(failedJobs)}, of them on a 429 ${jobs429.length} (final ${final429.length}); budget waits by priority: ${waits.join(", ")}`,
    ]);
  } finally {
    await workers.stop();
    await sys.stop();
  }
});
