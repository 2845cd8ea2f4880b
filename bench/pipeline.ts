/**
 * `npx tsx --conditions=development bench/pipeline.ts [N=1000]`  (BENCH_QUICK=1: N=60)
 * Deployments per second through deploy → running → terminated: the whole system (sim process,
 * API, worker in-process), sim boot delay 0, a trainer that exits at once. RunPod API calls per
 * deployment from the sim's own counters; at the end no sim pod may still be billing.
 */
import { fmt, machineBusyMs, main, processCpuMs, processTreeCpuMs, median, percentile, QUICK, report, runpodCalls, startBenchSystem, submit, until } from "./support";

const N = Number(process.argv[2] ?? (QUICK ? 60 : 1000));
const SUBMIT_CONCURRENCY = 50;
/**
 * At most this many deployments unfinished at once: every sim pod is real processes (bash, curl, four
 * node stand-ins), and 1,000 of them at once on 2 cores only thrash. Throughput is the sustained rate.
 */
const WINDOW = Number(process.env.BENCH_PIPELINE_WINDOW ?? 100);
/**
 * The worker's RunPod rate limit (RUNPOD_RATE_LIMIT_PER_SEC, default 10/s, a production setting
 * for the real RunPod). At 10/s the pipeline cannot exceed 10 / (calls per deployment) per second,
 * so the bench raises it (the simulator has no limit) to measure what the rest of the system does.
 */
const RATE = process.env.BENCH_RUNPOD_RATE ?? "2000";

main(async () => {
  const sys = await startBenchSystem({ worker: true, env: { RUNPOD_RATE_LIMIT_PER_SEC: RATE } });
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
    const after = await sys.simStats();
    const calls = runpodCalls(after) - runpodCalls(before);
    const perDep = calls / N;
    const rate = N / (totalMs / 1000);
    const outcomes = await sys.db.prisma.deployment.groupBy({ by: ["status"], _count: true });
    const succeeded = outcomes.find((o) => o.status === "SUCCEEDED")?._count ?? 0;
    const rows = await sys.db.prisma.deployment.findMany({ select: { createdAt: true, provisioningAt: true, podCreatedAt: true, runningAt: true, finishedAt: true, podTerminatedAt: true } });
    const stage = (a: keyof (typeof rows)[number], b: keyof (typeof rows)[number]) => {
      const xs = rows.filter((r) => r[a] && r[b]).map((r) => (r[b] as Date).getTime() - (r[a] as Date).getTime());
      return `${String(a)}→${String(b)} p50 ${fmt(median(xs))} / p99 ${fmt(percentile(xs, 99))} ms`;
    };
    const stages = [stage("createdAt", "provisioningAt"), stage("provisioningAt", "podCreatedAt"), stage("podCreatedAt", "runningAt"), stage("runningAt", "finishedAt"), stage("finishedAt", "podTerminatedAt")].join("; ");
    const billing = (after.pods?.running ?? 0) + (after.pods?.exited ?? 0);
    const byRoute = Object.entries(after.calls)
      .filter(([k]) => !k.includes("/admin"))
      .map(([k, v]) => `${k}: ${v - (before.calls[k] ?? 0)}`)
      .join(", ");
    report(
      [
        { bench: "2 pipeline", metric: `deployments/s end to end (N=${N})`, value: rate.toFixed(1), target: ">= 100/s", met: rate >= 100 },
        { bench: "2 pipeline", metric: "RunPod API calls per deployment", value: perDep.toFixed(2), target: "< 3.5", met: perDep < 3.5 },
        { bench: "2 pipeline", metric: "deployments SUCCEEDED", value: `${succeeded}/${N}`, target: `${N}/${N}`, met: succeeded === N },
        { bench: "2 pipeline", metric: "CPU per deployment: trainpod (API+worker) / simulator incl. its pods / whole machine", value: `${fmt(oursCpu)} / ${fmt(simCpu)} / ${fmt(machineCpu)} ms` },
        { bench: "2 pipeline", metric: "sim pods still billing at the end", value: String(billing), target: "0", met: billing === 0 },
      ],
      [
        `submitted in ${fmt(submittedMs)} ms (${SUBMIT_CONCURRENCY} concurrent clients, at most ${WINDOW} unfinished), all closed after ${fmt(totalMs)} ms; RUNPOD_RATE_LIMIT_PER_SEC=${RATE}, other settings at defaults (WORKER_CONCURRENCY=${sys.config.env.WORKER_CONCURRENCY}, MONITOR_INTERVAL_MS=${sys.config.env.MONITOR_INTERVAL_MS})`,
        `RunPod calls: ${byRoute}`,
        `stages: ${stages}`,
        `outcomes: ${outcomes.map((o) => `${o.status} ${o._count}`).join(", ")}`,
      ],
    );
  } finally {
    await sys.stop();
  }
});
