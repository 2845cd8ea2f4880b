/**
 * `npm run chaos` — N deployments (CHAOS_N, default 200) against the simulator with faults on,
 * worker processes SIGKILLed (CHAOS_KILLS, at least 10) and Redis restarted in a second phase
 * (CHAOS_REDIS_N deployments, CHAOS_REDIS_RESTARTS restarts). Prints the figures and the
 * invariants; exits 1 when one fails. CHAOS_KEEP_LOGS=1 keeps the log folder, CHAOS_KEEP_DB=1 the database.
 * BullMQ's lock and stalled check are the production defaults; the monitor runs every 5 s (its default).
 */
import { runChaos, type ChaosFigures, type ChaosOptions } from "./chaos";
import { OUTCOME_TO_DELETE_P99_MS } from "./invariants";

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const num = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};

export function optionsFromEnv(log: (line: string) => void): ChaosOptions {
  return {
    deployments: num("CHAOS_N", Number(process.argv[2] ?? 200)),
    redisPhaseDeployments: num("CHAOS_REDIS_N", 60),
    workers: num("CHAOS_WORKERS", 3),
    kills: num("CHAOS_KILLS", 12),
    killEveryMs: num("CHAOS_KILL_EVERY_MS", 3000),
    redisRestarts: num("CHAOS_REDIS_RESTARTS", 2),
    capacityOutages: num("CHAOS_CAPACITY_OUTAGES", 2),
    capacityOutageMs: num("CHAOS_CAPACITY_OUTAGE_MS", 4000),
    orphans: num("CHAOS_ORPHANS", 5),
    vanish: num("CHAOS_VANISH", 3),
    faultRate: num("CHAOS_FAULT_RATE", 0.05),
    createThenFailRate: num("CHAOS_CREATE_THEN_FAIL_RATE", 0.05),
    omitFromListRate: num("CHAOS_OMIT_FROM_LIST_RATE", 0.1),
    slowMs: num("CHAOS_SLOW_MS", 6000),
    seed: num("CHAOS_SEED", Date.now() % 1_000_000),
    window: num("CHAOS_WINDOW", 60),
    timeoutMs: num("CHAOS_TIMEOUT_MS", 15 * 60_000),
    settleMs: num("CHAOS_SETTLE_MS", 120_000),
    // the monitor at its production default (5 s); BullMQ's lock and stalled check are not set (defaults, 30 s each)
    timings: { monitorMs: num("CHAOS_MONITOR_MS", 5000), reconcileMs: 2000, requeueAfterMs: 10_000 },
    log,
  };
}

/** The figures and invariants of each phase, as lines to print. */
export function describe(results: ChaosFigures[]): string[] {
  const lines: string[] = [];
  for (const f of results) {
    const inv = f.invariants;
    const faults = Object.entries(f.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    const check = (ok: boolean) => (ok ? "ok  " : "FAIL");
    lines.push(
      `== phase "${f.phase}" (${f.seconds} s)`,
      `deployments ${f.deployments} (whole database: ${Object.entries(inv.byStatus)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}); cancels ${f.cancels}; submissions retried ${f.submitRetries}`,
      `worker kills (SIGKILL, cumulative) ${f.kills}, workers restarted after exiting by themselves ${f.workerRestarts}, stalled jobs taken over ${f.stalledJobs}; redis restarts ${f.redisRestarts}; capacity outages ${f.capacityOutages}`,
      `faults injected by the simulator (cumulative): ${faults}`,
      `orphans found ${inv.orphans.found}, terminated ${inv.orphans.terminated}; pods vanished → POD_VANISHED ${f.podVanished}; pods terminated by the monitor's sweep (terminate job late) ${f.sweptByMonitor}`,
      `pods created (201, cumulative) ${f.creates}; adopted by name after a create without an answer ${f.adopted}; RunPod bills recorded ${inv.billed}, billing jobs still waiting ${f.billingPending}`,
      `${check(inv.missing.length === 0 && inv.notClosed.length === 0)} every deployment terminal and closed (missing ${inv.missing.length}, not closed ${inv.notClosed.length})`,
      `${check(inv.podsLeftRunning.length === 0)} pods left running = ${inv.podsLeftRunning.length}`,
      `${check(inv.namesWithTwoPods.length === 0)} deployments with two pods = ${inv.namesWithTwoPods.length}`,
      `${check(inv.healthyFailed.length === 0)} healthy runs failed = ${inv.healthyFailed.length} of ${inv.healthy}${inv.healthyFailed.length > 0 ? `: ${inv.healthyFailed.map((h) => `${h.id} ${h.status}/${h.failureReason ?? "-"}`).join(", ")}` : ""}`,
      `${check(inv.costMismatches.length === 0)} cost difference per deployment ≤ 1 s of price: over it ${inv.costMismatches.length} (of which the deployment never recorded its pod ${inv.costMismatches.filter((c) => !c.podRecorded).length}); largest ${inv.maxCostDiffMicros} µ$ = ${inv.maxCostDiffSeconds} s of price${inv.maxCostDiffId ? ` (${inv.maxCostDiffId})` : ""}; pods deleted behind our back, left out: up to ${inv.vanishedMaxDiffSeconds} s; ends estimated between two terminate calls (RunPod's end inside the recorded bracket): ${inv.estimatedEnds.count}, up to ${inv.estimatedEnds.maxDiffSeconds} s`,
      `${check(inv.outcomeToDelete.p99 <= OUTCOME_TO_DELETE_P99_MS)} outcome → DELETE p99 ≤ ${OUTCOME_TO_DELETE_P99_MS / 1000} s: p50 ${sec(inv.outcomeToDelete.p50)}, p90 ${sec(inv.outcomeToDelete.p90)}, p99 ${sec(inv.outcomeToDelete.p99)}, max ${sec(inv.outcomeToDelete.max)} (${inv.outcomeToDelete.n} pods)`,
      `${check(inv.billMismatches.length === 0)} recorded RunPod bill ≠ simulator's meter = ${inv.billMismatches.length}`,
      `${check(inv.lostJobs.length === 0)} jobs lost (failed deploy, terminate, billing) = ${inv.lostJobs.length}`,
      `${check(inv.orphans.found === inv.orphans.terminated)} orphans left = ${inv.orphans.found - inv.orphans.terminated}`,
      `${check(f.secretsInLogs === 0)} secrets in log lines = ${f.secretsInLogs}`,
    );
    if (!inv.ok)
      lines.push(
        `details: ${JSON.stringify({ missing: inv.missing, notClosed: inv.notClosed, podsLeftRunning: inv.podsLeftRunning, namesWithTwoPods: inv.namesWithTwoPods, healthyFailed: inv.healthyFailed, costMismatches: inv.costMismatches.slice(0, 10), billMismatches: inv.billMismatches.slice(0, 10), lostJobs: inv.lostJobs, slowestDeletes: inv.outcomeToDelete.slowest })}`,
      );
  }
  return lines;
}

export function passed(results: ChaosFigures[], minKills: number): boolean {
  return results.every((f) => f.invariants.ok && f.secretsInLogs === 0) && (results[0]?.kills ?? 0) >= minKills;
}

if (require.main === module) {
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const options = optionsFromEnv(log);
  const started = Date.now();
  log(
    `chaos: N=${options.deployments} (+${options.redisPhaseDeployments} with Redis restarts), ${options.workers} worker processes, seed ${options.seed}`,
  );
  runChaos(options).then(
    (results) => {
      for (const line of describe(results)) process.stdout.write(`${line}\n`);
      const ok = passed(results, options.kills);
      process.stdout.write(ok ? "chaos: every invariant holds\n" : "chaos: INVARIANT FAILED\n");
      const s = Math.round((Date.now() - started) / 1000);
      process.stdout.write(`(${Math.floor(s / 60)} min ${s % 60} s in all; seed ${options.seed})\n`);
      process.exit(ok ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
