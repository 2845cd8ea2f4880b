/**
 * `npx tsx --conditions=development bench/pipeline.ts [N=1000]`  (BENCH_QUICK=1: N=60)
 * Deployments per second through deploy → running → terminated: the whole system (sim process,
 * API, worker in-process), sim boot delay 0, a trainer that exits at once. RunPod API v2 calls per
 * deployment from the sim's own counters (creates, deletes, catalog reads, listings, other), the
 * billing job's read of RunPod's bill included; at the end no sim pod may still be billing.
 */
import {
  callSplit,
  fmt,
  machineBusyMs,
  main,
  processCpuMs,
  processTreeCpuMs,
  median,
  percentile,
  QUICK,
  report,
  startBenchSystem,
  submit,
  until,
} from "./support";

const N = Number(process.argv[2] ?? (QUICK ? 60 : 1000));
const SUBMIT_CONCURRENCY = 50;
/**
 * At most this many deployments unfinished at once: every sim pod is real processes (bash, curl, a
 * node trainer stand-in), and 1,000 of them at once on 2 cores only thrash. Throughput is the sustained rate.
 */
const WINDOW = Number(process.env.BENCH_PIPELINE_WINDOW ?? 100);
/**
 * The billing job reads GET /v2/billing/pods once per closed pod, BILLING_DELAY_MS (10 min in
 * production) after its termination: one call per deployment that a run of a few minutes would
 * never see. The bench shortens the delay so the read is counted (the sim's billing does not lag).
 */
const BILLING_DELAY_MS = "1000";
const BILLING_WAIT_MS = QUICK ? 30_000 : 90_000;

main(async () => {
  const sys = await startBenchSystem({
    worker: true,
    env: { BILLING_DELAY_MS, BILLING_RETRY_DELAY_MS: BILLING_DELAY_MS },
  });
  try {
    const before = await sys.simStats();
    const cpu0 = { machine: machineBusyMs(), ours: processCpuMs(), sim: processTreeCpuMs(sys.sim.pid) };
    const t0 = performance.now();
    let next = 0;
    let closedNow = 0;
    const closed = () => sys.db.prisma.deployment.count({ where: { podTerminatedAt: { not: null } } });
    const poller = setInterval(() => void closed().then((n) => (closedNow = n)), 100);
    await Promise.all(
      Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
        while (next < N) {
          if (next - closedNow >= WINDOW) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          next += 1;
          await submit(sys, { steps: 1, sim_step_ms: 0 });
        }
      }),
    );
    const submittedMs = performance.now() - t0;
    clearInterval(poller);
    await until(`${N} deployments closed`, async () => (await closed()) >= N, QUICK ? 60_000 : 480_000, 100);
    const totalMs = performance.now() - t0;
    const oursCpu = (processCpuMs() - cpu0.ours) / N;
    const machineCpu = (machineBusyMs() - cpu0.machine) / N;
    const simCpu = (processTreeCpuMs(sys.sim.pid) - cpu0.sim) / N;
    const closedStats = await sys.simStats();
    // the billing reads, BILLING_DELAY_MS after each termination (bounded: a bill that stays behind is reported, not awaited)
    const billed = () => sys.db.prisma.deployment.count({ where: { runpodBilledAt: { not: null } } });
    const tb = performance.now();
    while ((await billed()) < N && performance.now() - tb < BILLING_WAIT_MS)
      await new Promise((r) => setTimeout(r, 250));
    const billedN = await billed();
    const billWaitMs = performance.now() - tb;
    const after = await sys.simStats();
    const split = callSplit(before, after);
    const atClose = callSplit(before, closedStats);
    const perDep = split.total / N;
    const per = (n: number) => (n / N).toFixed(2);
    const waits = (await sys.worker!.container.metrics.runpodRateWaitSeconds.get()).values;
    const waitSum = waits.filter((v) => v.metricName?.endsWith("_sum")).reduce((a, v) => a + v.value, 0);
    const waitCount = waits.filter((v) => v.metricName?.endsWith("_count")).reduce((a, v) => a + v.value, 0);
    const rate = N / (totalMs / 1000);
    const outcomes = await sys.db.prisma.deployment.groupBy({ by: ["status"], _count: true });
    const succeeded = outcomes.find((o) => o.status === "SUCCEEDED")?._count ?? 0;
    const rows = await sys.db.prisma.deployment.findMany({
      select: {
        createdAt: true,
        provisioningAt: true,
        podCreatedAt: true,
        runningAt: true,
        finishedAt: true,
        podTerminatedAt: true,
      },
    });
    const stage = (a: keyof (typeof rows)[number], b: keyof (typeof rows)[number]) => {
      const xs = rows.filter((r) => r[a] && r[b]).map((r) => (r[b] as Date).getTime() - (r[a] as Date).getTime());
      return `${String(a)}→${String(b)} p50 ${fmt(median(xs))} / p99 ${fmt(percentile(xs, 99))} ms`;
    };
    const stages = [
      stage("createdAt", "provisioningAt"),
      stage("provisioningAt", "podCreatedAt"),
      stage("podCreatedAt", "runningAt"),
      stage("runningAt", "finishedAt"),
      stage("finishedAt", "podTerminatedAt"),
    ].join("; ");
    const billing = (after.pods?.running ?? 0) + (after.pods?.exited ?? 0);
    report(
      [
        {
          bench: "2 pipeline",
          metric: `deployments/s end to end (N=${N})`,
          value: rate.toFixed(1),
          target: ">= 100/s",
          met: rate >= 100,
        },
        {
          bench: "2 pipeline",
          metric: "RunPod API calls per deployment (v2, billing read included)",
          value: perDep.toFixed(2),
          target: "<= 3.5",
          met: perDep <= 3.5,
        },
        {
          bench: "2 pipeline",
          metric: "of which creates / deletes / catalog reads / listings / other (billing reads)",
          value: `${per(split.creates)} / ${per(split.deletes)} / ${per(split.catalog)} / ${per(split.listings)} / ${per(split.other)} (${per(split.billing)})`,
        },
        {
          bench: "2 pipeline",
          metric: "deployments SUCCEEDED",
          value: `${succeeded}/${N}`,
          target: `${N}/${N}`,
          met: succeeded === N,
        },
        {
          bench: "2 pipeline",
          metric: "CPU per deployment: trainpod (API+worker) / simulator incl. its pods / whole machine",
          value: `${fmt(oursCpu)} / ${fmt(simCpu)} / ${fmt(machineCpu)} ms`,
        },
        {
          bench: "2 pipeline",
          metric: "sim pods still billing at the end",
          value: String(billing),
          target: "0",
          met: billing === 0,
        },
      ],
      [
        `submitted in ${fmt(submittedMs)} ms (${SUBMIT_CONCURRENCY} concurrent clients, at most ${WINDOW} unfinished), all closed after ${fmt(totalMs)} ms; the sim's default quota (6,000/min), RUNPOD_RATE_LIMIT_PER_MINUTE=${sys.config.env.RUNPOD_RATE_LIMIT_PER_MINUTE} (assumed until the sim's first answer), BILLING_DELAY_MS=${BILLING_DELAY_MS} (production 600,000), other settings at defaults (WORKER_CONCURRENCY=${sys.config.env.WORKER_CONCURRENCY}, MONITOR_INTERVAL_MS=${sys.config.env.MONITOR_INTERVAL_MS}, RECONCILE_INTERVAL_MS=${sys.config.env.RECONCILE_INTERVAL_MS}, RUNPOD_CATALOG_TTL_SECONDS=${sys.config.env.RUNPOD_CATALOG_TTL_SECONDS})`,
        `RunPod calls (${split.total}, ${per(split.total)} per deployment): ${split.byRoute.join(", ")}`,
        `RunPod calls when the last pod was confirmed terminated (billing reads of the pods closed before it included): ${atClose.total} (${per(atClose.total)} per deployment); bills recorded ${billedN}/${N}, ${fmt(billWaitMs)} ms after the last termination; 429s from the sim: ${Number(after.rateLimited ?? 0) - Number(before.rateLimited ?? 0)}; shared-budget waits: ${fmt(waitCount)} (${waitSum.toFixed(1)} s in all)`,
        `stages: ${stages}`,
        `outcomes: ${outcomes.map((o) => `${o.status} ${o._count}`).join(", ")}`,
      ],
    );
  } finally {
    await sys.stop();
  }
});
