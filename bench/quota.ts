/**
 * `npx tsx --conditions=development bench/quota.ts [N=100]`  (BENCH_QUICK=1: N=25)
 * 429s under a 60/minute quota: the simulator with SIM_QUOTA={"minute":60} (one RunPod account),
 * THREE real worker processes (apps/worker/src/main.ts, as production runs them) sharing its rate
 * budget through Redis, the API in this process. N deployments are submitted at once (the trainer
 * `{"steps":1,"sim_step_ms":0}`); the sim says how many calls it refused with 429, the workers'
 * logs how many 429s reached a job as a failed attempt, the deployments how many did not succeed,
 * the workers' /metrics how long calls waited for the shared budget.
 * Bounded: at most QUOTA_WAIT_MS for every deployment to close; whatever is left is reported.
 */
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
const QUOTA_WAIT_MS = QUICK ? 120_000 : 300_000;
const SUBMIT_CONCURRENCY = 10;

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
            body: deploymentBody(sys, { steps: 1, sim_step_ms: 0 }),
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
    const after = await sys.simStats();
    const metrics = await Promise.all(workers.metricsUrls.map(async (u) => (await fetch(u)).text()));
    const closedN = await closed();
    const outcomes = await sys.db.prisma.deployment.groupBy({ by: ["status", "failureReason"], _count: true });
    const succeeded = outcomes.filter((o) => o.status === "SUCCEEDED").reduce((a, o) => a + o._count, 0);
    const notSucceeded = N - succeeded;
    const split = callSplit(before, after);
    const rateLimited = Number(after.rateLimited ?? 0) - Number(before.rateLimited ?? 0);
    const sum = (name: string, ...filters: string[]) => metrics.reduce((s, t) => s + metricSum(t, name, filters), 0);
    const waitSum = sum("trainpod_runpod_rate_wait_seconds_sum");
    const waitCount = sum("trainpod_runpod_rate_wait_seconds_count");
    const urgentWait = sum("trainpod_runpod_rate_wait_seconds_sum", 'priority="urgent"');
    const urgentCount = sum("trainpod_runpod_rate_wait_seconds_count", 'priority="urgent"');
    const urgentOver5s = urgentCount - sum("trainpod_runpod_rate_wait_seconds_bucket", 'le="5"', 'priority="urgent"');
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
      `${N} submitted at once (${SUBMIT_CONCURRENCY} clients) in ${fmt(submittedMs)} ms, submission p50 / max ${fmt(median(submitMs))} / ${fmt(percentile(submitMs, 100))} ms; ${closedN}/${N} closed after ${fmt(wallMs)} ms (${(closedN / minutes).toFixed(1)} deployments/min); outcomes: ${outcomes.map((o) => `${o.status}${o.failureReason ? `/${o.failureReason}` : ""} ${o._count}`).join(", ")}`,
      `RunPod calls (${split.total}, ${(split.total / minutes).toFixed(1)}/min over the run): ${split.byRoute.join(", ")}; billing reads come BILLING_DELAY_MS (${fmt(e.BILLING_DELAY_MS)} ms) after each termination, after this run`,
      `workers: RunPod calls ${fmt(workerCalls)}, 429s their clients saw ${fmt(seen429)}; failed job attempts ${fmt(failedJobs)}, of them on a 429 ${jobs429.length} (final ${final429.length}); budget waits urgent (deletes, listings) ${fmt(urgentCount)} (${urgentWait.toFixed(1)} s in all, ${fmt(urgentOver5s)} over 5 s), normal (creates, catalog, billing) ${fmt(waitCount - urgentCount)} (${(waitSum - urgentWait).toFixed(1)} s)`,
    ]);
  } finally {
    await workers.stop();
    await sys.stop();
  }
});
