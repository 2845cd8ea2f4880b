/**
 * `npx tsx --conditions=development bench/failure.ts [N=200]`  (BENCH_QUICK=1: N=20)
 * Failure to termination, whole system:
 *  a) N runs whose trainer fails at step 1: from the pod's `failed` report (the deployment's
 *     finishedAt, set when the API takes the report) to the simulator seeing DELETE (the sim pod's
 *     terminatedAt), and to the termination being confirmed (podTerminatedAt). Production defaults.
 *  b) silently dying pods (RUNNING, then frozen by the sim: a hung machine, no heartbeat from the agent any more;
 *     a trainer that merely hangs keeps heartbeating and is TRAINING_STALLED instead): from the last heartbeat to
 *     the failure (HEARTBEAT_TIMEOUT), against HEARTBEAT_TIMEOUT_SECONDS + MONITOR_INTERVAL_MS (2 s + 0.5 s here).
 * Writes p99 failed→DELETE to $BENCH_RESULTS for bench/cost.ts.
 */
import { appendFileSync } from "node:fs";
import {
  fmt,
  main,
  median,
  percentile,
  QUICK,
  report,
  sleep,
  startBenchSystem,
  submit,
  until,
  type BenchSystem,
} from "./support";

const N = Number(process.argv[2] ?? (QUICK ? 20 : 200));
const SILENT = QUICK ? 3 : 10;
/** submissions per second: paced so that the sim's pod processes do not starve the 2 cores */
const SUBMIT_PER_SEC = 5;

async function paced(sys: BenchSystem, n: number, hp: Record<string, unknown>): Promise<string[]> {
  const ids: Promise<string>[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(submit(sys, hp));
    await sleep(1000 / SUBMIT_PER_SEC);
  }
  return Promise.all(ids);
}

async function simPods(sys: BenchSystem): Promise<Map<string, { terminatedAt: string | null }>> {
  const body = (await (await sys.sim.admin("/admin/pods")).json()) as
    Array<{ id: string; terminatedAt: string | null }> | { pods: Array<{ id: string; terminatedAt: string | null }> };
  const list = Array.isArray(body) ? body : body.pods;
  return new Map(list.map((p) => [p.id, p]));
}

main(async () => {
  const rows = [];
  const notes: string[] = [];
  // a) failing runs
  {
    const sys = await startBenchSystem({ worker: true });
    try {
      const ids = await paced(sys, N, { steps: 2, sim_step_ms: 0, sim_fail_at_step: 1 });
      await until(
        `${N} failing runs closed`,
        async () => (await sys.db.prisma.deployment.count({ where: { podTerminatedAt: { not: null } } })) >= N,
        QUICK ? 60_000 : 180_000,
      );
      const deps = await sys.db.prisma.deployment.findMany({
        where: { id: { in: ids } },
        select: { podId: true, status: true, failureReason: true, finishedAt: true, podTerminatedAt: true },
      });
      const pods = await simPods(sys);
      const toDelete: number[] = [];
      const toConfirmed: number[] = [];
      for (const d of deps) {
        const sim = pods.get(d.podId ?? "")?.terminatedAt;
        if (d.finishedAt && sim) toDelete.push(Date.parse(sim) - d.finishedAt.getTime());
        if (d.finishedAt && d.podTerminatedAt) toConfirmed.push(d.podTerminatedAt.getTime() - d.finishedAt.getTime());
      }
      const p99 = percentile(toDelete, 99);
      const reasons = new Map<string, number>();
      for (const d of deps)
        reasons.set(
          `${d.status}/${d.failureReason ?? "-"}`,
          (reasons.get(`${d.status}/${d.failureReason ?? "-"}`) ?? 0) + 1,
        );
      const training = reasons.get("FAILED/TRAINING_FAILED") ?? 0;
      rows.push(
        {
          bench: "4 failure",
          metric: `failed report → sim sees DELETE, p50 (N=${N})`,
          value: `${fmt(median(toDelete))} ms`,
        },
        {
          bench: "4 failure",
          metric: "failed report → sim sees DELETE, p99",
          value: `${fmt(p99)} ms`,
          target: "< 2,000 ms",
          met: p99 < 2000,
        },
        {
          bench: "4 failure",
          metric: "failed report → termination confirmed (podTerminatedAt), p50 / p99",
          value: `${fmt(median(toConfirmed))} / ${fmt(percentile(toConfirmed, 99))} ms`,
        },
        {
          bench: "4 failure",
          metric: "runs failed as TRAINING_FAILED",
          value: `${training}/${N}`,
          target: `${N}/${N}`,
          met: training === N,
        },
      );
      notes.push(
        `failing runs submitted at ${SUBMIT_PER_SEC}/s; outcomes ${[...reasons].map(([k, v]) => `${k} ${v}`).join(", ")}; max failed→DELETE ${fmt(Math.max(...toDelete))} ms (${toDelete.length} pods measured)`,
      );
      if (process.env.BENCH_RESULTS)
        appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify({ terminationP99Ms: p99 })}\n`);
    } finally {
      await sys.stop();
    }
  }
  // b) silently dying pods
  {
    const hb = 2;
    const interval = 500;
    const sys = await startBenchSystem({
      worker: true,
      env: { HEARTBEAT_TIMEOUT_SECONDS: String(hb), MONITOR_INTERVAL_MS: String(interval) },
    });
    try {
      const ids = await paced(sys, SILENT, { steps: 5, sim_step_ms: 3_600_000 });
      // each pod, once it runs, is frozen: its agent's heartbeats stop with everything else
      const frozen = new Set<string>();
      await until(
        `${SILENT} pods running and frozen`,
        async () => {
          const running = await sys.db.prisma.deployment.findMany({
            where: { id: { in: ids }, status: "RUNNING", podId: { not: null } },
            select: { podId: true },
          });
          for (const { podId } of running) {
            if (podId === null || frozen.has(podId)) continue;
            const res = await sys.sim.admin(`/admin/pods/${podId}/freeze`, { method: "POST" });
            if (res.status === 200) frozen.add(podId);
          }
          return frozen.size >= SILENT;
        },
        60_000,
      );
      await until(
        `${SILENT} silent pods closed`,
        async () => (await sys.db.prisma.deployment.count({ where: { podTerminatedAt: { not: null } } })) >= SILENT,
        60_000,
      );
      const deps = await sys.db.prisma.deployment.findMany({
        where: { id: { in: ids } },
        select: {
          failureReason: true,
          lastHeartbeatAt: true,
          runningAt: true,
          finishedAt: true,
          podTerminatedAt: true,
        },
      });
      const detect = deps
        .filter((d) => d.finishedAt && (d.lastHeartbeatAt ?? d.runningAt))
        .map((d) => (d.finishedAt as Date).getTime() - (d.lastHeartbeatAt ?? d.runningAt)!.getTime());
      const closeMs = deps
        .filter((d) => d.finishedAt && d.podTerminatedAt)
        .map((d) => d.podTerminatedAt!.getTime() - d.finishedAt!.getTime());
      const bound = hb * 1000 + interval;
      const max = Math.max(...detect);
      const hbFailed = deps.filter((d) => d.failureReason === "HEARTBEAT_TIMEOUT").length;
      rows.push(
        {
          bench: "4 failure",
          metric: `silent pod: last heartbeat → failed, p50 / max (N=${SILENT})`,
          value: `${fmt(median(detect))} / ${fmt(max)} ms`,
          target: `<= ${fmt(bound)} ms (${hb} s + ${interval} ms) + tick`,
          met: max <= bound + 250,
        },
        {
          bench: "4 failure",
          metric: "silent pod: failed → termination confirmed, p50",
          value: `${fmt(median(closeMs))} ms`,
        },
        {
          bench: "4 failure",
          metric: "silent pods failed as HEARTBEAT_TIMEOUT",
          value: `${hbFailed}/${SILENT}`,
          target: `${SILENT}/${SILENT}`,
          met: hbFailed === SILENT,
        },
      );
      notes.push(
        `silent pods: HEARTBEAT_TIMEOUT_SECONDS=${hb}, MONITOR_INTERVAL_MS=${interval} (production defaults: 300 s, 5 s → bound 305 s); "+ tick" allows 250 ms for the tick itself`,
      );
    } finally {
      await sys.stop();
    }
  }
  report(rows, notes);
});
