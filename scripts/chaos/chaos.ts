/**
 * A chaos run: deployments against the simulator with RunPod faults on, capacity running out and
 * coming back, worker processes SIGKILLed and restarted, orphan pods planted, pods vanishing under
 * live deployments; then a second phase in which Redis itself is restarted. Each phase ends with
 * the invariants (invariants.ts) checked.
 */
import { readFileSync } from "node:fs";
import { checkInvariants, type InvariantReport, type SimPodView } from "./invariants";
import { seededRandom, submitAll, type Kind, type Rng } from "./load";
import { plantOrphans, vanishPods } from "./sim-pods";
import { startChaosSystem, type ChaosSystem, type ChaosTimings } from "./system";
import { timelineComplete } from "@trainpod/core";

export interface ChaosOptions {
  deployments: number;
  redisPhaseDeployments: number;
  workers: number;
  /** at least this many SIGKILLs of a worker process in phase 1 */
  kills: number;
  killEveryMs: number;
  redisRestarts: number;
  capacityOutages: number;
  capacityOutageMs: number;
  orphans: number;
  vanish: number;
  faultRate: number;
  /** share of creates that make the pod and answer 500 (createThenFail): the deploy job must adopt it by name */
  createThenFailRate: number;
  /** share of live pods left out of each GET /v2/pods answer (omitFromList): a miss must fail nothing */
  omitFromListRate: number;
  /**
   * how long a `slow` answer (faultRate of every /v2 call, creates included) is held: past the workers'
   * RUNPOD_TIMEOUT_MS (5 s) a slow create's 201 is lost (the pod exists: adopted by name), other slow calls time out and are retried
   */
  slowMs: number;
  seed: number;
  window: number;
  timeoutMs: number;
  /** after every deployment closed: how long pods and billing jobs may take to settle (bounded) */
  settleMs: number;
  timings: ChaosTimings;
  log: (line: string) => void;
}

export interface ChaosFigures {
  phase: string;
  deployments: number;
  kills: number;
  /** worker processes that exited by themselves (e.g. gave up on a slow Postgres at start) and were started again */
  workerRestarts: number;
  redisRestarts: number;
  faults: Record<string, number>;
  submitRetries: number;
  cancels: number;
  capacityOutages: number;
  podVanished: number;
  /** POST /v2/pods answered 201 (cumulative), and deployments that adopted their pod by name instead (cumulative) */
  creates: number;
  adopted: number;
  /** billing jobs still waiting (delayed or retrying) when the invariants were checked */
  billingPending: number;
  secretsInLogs: number;
  /** jobs BullMQ found stalled (a killed worker's) and ran again, from the workers' log lines */
  stalledJobs: number;
  seconds: number;
  /** closed deployments whose pod the monitor's sweep terminated (its terminate job late: held by a killed worker), cumulative */
  sweptByMonitor: number;
  invariants: InvariantReport;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = { "content-type": "application/json" };

async function simAdmin<T>(sys: ChaosSystem, path: string, body?: unknown): Promise<T> {
  const res = await sys.sim.admin(
    path,
    body === undefined ? undefined : { method: "PATCH", headers: json, body: JSON.stringify(body) },
  );
  return (await res.json()) as T;
}

async function closedCount(sys: ChaosSystem, ids: string[]): Promise<number> {
  // closed: an outcome, and the pod's termination recorded, or no create ever tried (core's timelineComplete)
  const rows = await sys.db.prisma.deployment.findMany({
    where: { id: { in: ids } },
    select: { status: true, podId: true, podRequestedAt: true, podTerminatedAt: true },
  });
  return rows.filter(timelineComplete).length;
}

function countStalled(sys: ChaosSystem): number {
  return sys.logFiles.reduce((n, f) => n + (readFileSync(f, "utf8").match(/"message":"job stalled/g) ?? []).length, 0);
}

function countSecrets(sys: ChaosSystem): number {
  const secrets = [sys.user.key, sys.runpodKey];
  let hits = 0;
  for (const f of sys.logFiles) {
    const text = readFileSync(f, "utf8");
    for (const s of secrets) hits += text.split(s).length - 1;
    hits += (text.match(/tp_(ds|run)_[A-Za-z0-9_-]{20,}/g) ?? []).length;
  }
  return hits;
}

async function settle(sys: ChaosSystem, ids: string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const closed = await closedCount(sys, ids);
    const pods = await simAdmin<SimPodView[]>(sys, "/admin/pods");
    if (closed === ids.length && pods.every((p) => p.status === "TERMINATED")) return;
    await sleep(500);
  }
}

/** what every phase shares: what each deployment was meant to do, and whose pod was deleted behind our back */
interface Expectations {
  kinds: Map<string, Kind>;
  vanished: string[];
}

async function phase(
  sys: ChaosSystem,
  o: ChaosOptions,
  name: string,
  n: number,
  rng: Rng,
  expect: Expectations,
  disturb: (ids: string[], done: () => boolean, longIds: string[]) => Promise<Partial<ChaosFigures>>,
): Promise<ChaosFigures> {
  const t0 = Date.now();
  const ids: string[] = [];
  const longIds: string[] = [];
  let closedNow = 0;
  let finished = false;
  const poll = setInterval(
    () =>
      void closedCount(sys, ids)
        .then((c) => (closedNow = c))
        .catch(() => undefined),
    300,
  );
  const disturbance = disturb(ids, () => finished, longIds);
  const submitted = await submitAll(sys, {
    phase: name,
    n,
    concurrency: 10,
    window: o.window,
    longOnes: name === "workers" ? o.vanish : 0,
    unfinished: () => ids.length - closedNow,
    rng,
    sink: ids,
    longSink: longIds,
    kinds: expect.kinds,
  });
  o.log(
    `${name}: ${n} submitted in ${Math.round((Date.now() - t0) / 1000)} s (${submitted.retries} retried submissions)`,
  );
  const end = Date.now() + o.timeoutMs;
  while (Date.now() < end && (await closedCount(sys, ids)) < ids.length) await sleep(500);
  finished = true;
  clearInterval(poll);
  const extra = await disturbance;
  // with BullMQ's default lock and stalled check (30 s each) a killed worker's job is taken over after up to
  // ~60 s: pods and billing jobs are given that long, bounded
  await settle(sys, ids, o.settleMs);
  const stats = await simAdmin<{ faults: Record<string, number>; calls: Record<string, number> }>(sys, "/admin/stats");
  const billing = await sys.queues.billing.getJobCounts("waiting", "delayed", "active", "prioritized");
  const healthy = [...expect.kinds.entries()].filter(([, k]) => k === "healthy").map(([id]) => id);
  const invariants = await checkInvariants({
    prisma: sys.db.prisma,
    queues: sys.queues,
    simPods: await simAdmin<SimPodView[]>(sys, "/admin/pods"),
    submitted: ids,
    podNamePrefix: sys.podNamePrefix,
    healthy,
    vanished: expect.vanished,
  });
  return {
    phase: name,
    deployments: ids.length,
    kills: sys.pool.kills,
    workerRestarts: sys.pool.restarts,
    redisRestarts: sys.redis.restarts,
    faults: stats.faults,
    submitRetries: submitted.retries,
    cancels: submitted.cancels,
    capacityOutages: 0,
    podVanished: await sys.db.prisma.deployment.count({ where: { failureReason: "POD_VANISHED" } }),
    creates: stats.calls["POST /v2/pods 201"] ?? 0,
    adopted: await sys.db.prisma.deploymentEvent.count({ where: { type: "pod_adopted" } }),
    billingPending: Object.values(billing).reduce((a, b) => a + b, 0),
    secretsInLogs: countSecrets(sys),
    stalledJobs: countStalled(sys),
    sweptByMonitor: await sys.db.prisma.deploymentEvent.count({
      where: { type: "pod_terminated", message: { contains: "termination overdue" } },
    }),
    seconds: Math.round((Date.now() - t0) / 1000),
    invariants,
    ...extra,
  };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosFigures[]> {
  const rng = seededRandom(o.seed);
  const sys = await startChaosSystem({ workers: o.workers, seed: o.seed, timings: o.timings });
  const w = sys.workerSettings;
  o.log(
    `workers: WORKER_LOCK_DURATION_MS ${w.lockMs}, WORKER_STALLED_INTERVAL_MS ${w.stalledMs} (defaults), MONITOR_INTERVAL_MS ${w.monitorMs}, TERMINATE_SWEEP_AFTER_MS ${w.terminateSweepAfterMs}; logs in ${sys.dir}, database ${sys.dbName}`,
  );
  try {
    const r = o.faultRate;
    // no `routes`: every /v2 route (pods, actions, catalog, billing, logs) meets them, creates included; a slow
    // create outlives the client's timeout (its 201 is lost), as does a createThenFail's 500; listings miss pods
    await simAdmin(sys, "/admin/config", {
      faults: {
        rateLimit: r,
        serverError: r,
        slow: r,
        slowMs: o.slowMs,
        drop: r / 4,
        retryAfterSeconds: 1,
        createThenFail: o.createThenFailRate,
        omitFromList: o.omitFromListRate,
      },
    });
    const expect: Expectations = { kinds: new Map(), vanished: [] };
    await plantOrphans(sys, o.orphans);
    const workers = await phase(sys, o, "workers", o.deployments, rng, expect, async (_ids, done, longIds) => {
      let outages = 0;
      const vanishing = vanishPods(sys, longIds, o.vanish, done);
      const capacity = (async () => {
        for (; outages < o.capacityOutages && !done(); outages += 1) {
          await sleep(o.killEveryMs * 2);
          await simAdmin(sys, "/admin/config", { capacity: 0 });
          await sleep(o.capacityOutageMs);
          await simAdmin(sys, "/admin/config", { capacity: { "*": null } });
        }
      })();
      while (!done() || sys.pool.kills < o.kills) {
        await sleep(o.killEveryMs * (0.5 + rng()));
        if (sys.pool.kills < o.kills * 2) await sys.pool.killOne(Math.floor(rng() * o.workers), 300 + rng() * 700);
        if (done() && sys.pool.kills >= o.kills) break;
      }
      await capacity;
      expect.vanished.push(...(await vanishing));
      o.log(`workers: ${sys.pool.kills} worker processes SIGKILLed and restarted`);
      return { capacityOutages: outages };
    });
    if (o.redisRestarts === 0 || o.redisPhaseDeployments === 0) return [workers];
    const redis = await phase(sys, o, "redis", o.redisPhaseDeployments, rng, expect, async (ids, done) => {
      for (let i = 0; i < o.redisRestarts && !done(); i += 1) {
        while (ids.length < ((i + 1) * o.redisPhaseDeployments) / (o.redisRestarts + 1) && !done()) await sleep(100);
        await sys.redis.restart(1000);
        o.log(`redis: restarted (${sys.redis.restarts})`);
      }
      return {};
    });
    return [workers, redis];
  } finally {
    await sys.stop();
  }
}
