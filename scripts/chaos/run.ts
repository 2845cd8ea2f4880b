/**
 * `npm run chaos` — N deployments (CHAOS_N, default 200) against the simulator with faults on,
 * worker processes SIGKILLed (CHAOS_KILLS, at least 10) and Redis restarted in a second phase
 * (CHAOS_REDIS_N deployments, CHAOS_REDIS_RESTARTS restarts). Prints the figures and the
 * invariants; exits 1 when one fails. CHAOS_KEEP_LOGS=1 keeps the log folder.
 */
import { runChaos, type ChaosFigures, type ChaosOptions } from "./chaos";

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
    seed: num("CHAOS_SEED", Date.now() % 1_000_000),
    window: num("CHAOS_WINDOW", 60),
    timeoutMs: num("CHAOS_TIMEOUT_MS", 15 * 60_000),
    timings: { monitorMs: 1000, reconcileMs: 2000, requeueAfterMs: 10_000, lockMs: 5000, stalledMs: 2000 },
    log,
  };
}

/** The figures and invariants of each phase, as lines to print. */
export function describe(results: ChaosFigures[]): string[] {
  const lines: string[] = [];
  for (const f of results) {
    const inv = f.invariants;
    const faults = Object.entries(f.faults).map(([k, v]) => `${k} ${v}`).join(", ");
    const check = (ok: boolean) => (ok ? "ok  " : "FAIL");
    lines.push(
      `== phase "${f.phase}" (${f.seconds} s)`,
      `deployments ${f.deployments} (whole database: ${Object.entries(inv.byStatus).map(([k, v]) => `${k} ${v}`).join(", ")}); cancels ${f.cancels}; submissions retried ${f.submitRetries}`,
      `worker kills (SIGKILL, cumulative) ${f.kills}, workers restarted after exiting by themselves ${f.workerRestarts}, stalled jobs taken over ${f.stalledJobs}; redis restarts ${f.redisRestarts}; capacity outages ${f.capacityOutages}`,
      `faults injected by the simulator (cumulative): ${faults}`,
      `orphans found ${inv.orphans.found}, terminated ${inv.orphans.terminated}; pods vanished → POD_VANISHED ${f.podVanished}`,
      `${check(inv.missing.length === 0 && inv.notClosed.length === 0)} every deployment terminal and closed (missing ${inv.missing.length}, not closed ${inv.notClosed.length})`,
      `${check(inv.podsLeftRunning.length === 0)} pods left running = ${inv.podsLeftRunning.length}`,
      `${check(inv.namesWithTwoPods.length === 0)} deployments with two pods = ${inv.namesWithTwoPods.length}`,
      `${check(inv.costMismatches.length === 0)} cost mismatch = ${inv.costMismatches.length} (largest difference ${inv.maxCostDiffMicros} micro-dollars)`,
      `${check(inv.lostJobs.length === 0)} jobs lost = ${inv.lostJobs.length}`,
      `${check(inv.orphans.found === inv.orphans.terminated)} orphans left = ${inv.orphans.found - inv.orphans.terminated}`,
      `${check(f.secretsInLogs === 0)} secrets in log lines = ${f.secretsInLogs}`,
    );
    if (!inv.ok) lines.push(`details: ${JSON.stringify({ missing: inv.missing, notClosed: inv.notClosed, podsLeftRunning: inv.podsLeftRunning, namesWithTwoPods: inv.namesWithTwoPods, costMismatches: inv.costMismatches.slice(0, 10), lostJobs: inv.lostJobs })}`);
  }
  return lines;
}

export function passed(results: ChaosFigures[], minKills: number): boolean {
  return results.every((f) => f.invariants.ok && f.secretsInLogs === 0) && (results[0]?.kills ?? 0) >= minKills;
}

if (require.main === module) {
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const options = optionsFromEnv(log);
  log(`chaos: N=${options.deployments} (+${options.redisPhaseDeployments} with Redis restarts), ${options.workers} worker processes, seed ${options.seed}`);
  runChaos(options).then(
    (results) => {
      for (const line of describe(results)) process.stdout.write(`${line}\n`);
      const ok = passed(results, options.kills);
      process.stdout.write(ok ? "chaos: every invariant holds\n" : "chaos: INVARIANT FAILED\n");
      process.exit(ok ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
