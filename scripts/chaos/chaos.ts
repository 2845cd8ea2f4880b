/**
 * A chaos run: deployments against the simulator with RunPod faults on, capacity running out and
 * coming back, worker processes SIGKILLed and restarted, orphan pods planted, pods vanishing under
 * live deployments; then a second phase in which Redis itself is restarted. Each phase ends with
 * the invariants (invariants.ts) checked.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { seededRandom } from "../../apps/runpod-sim/src/faults";
import { checkInvariants, type InvariantReport, type SimPodView } from "./invariants";
import { submitAll, type Rng } from "./load";
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
  seed: number;
  window: number;
  timeoutMs: number;
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
  secretsInLogs: number;
  /** jobs BullMQ found stalled (a killed worker's) and ran again, from the workers' log lines */
  stalledJobs: number;
  seconds: number;
  invariants: InvariantReport;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = { "content-type": "application/json" };

async function simAdmin<T>(sys: ChaosSystem, path: string, body?: unknown): Promise<T> {
  const res = await sys.sim.admin(path, body === undefined ? undefined : { method: "PATCH", headers: json, body: JSON.stringify(body) });
  return (await res.json()) as T;
}

async function closedCount(sys: ChaosSystem, ids: string[]): Promise<number> {
  // closed: an outcome, and the pod's termination recorded or no pod at all (core's timelineComplete)
  const rows = await sys.db.prisma.deployment.findMany({ where: { id: { in: ids } }, select: { status: true, podId: true, podTerminatedAt: true } });
  return rows.filter(timelineComplete).length;
}

/** Pods named like ours whose deployment never recorded them (a lost database write): reconcile must end them. */
async function plantOrphans(sys: ChaosSystem, n: number): Promise<void> {
  for (let i = 0; i < n; ) {
    const res = await fetch(`${sys.sim.apiUrl}/pods`, {
      method: "POST",
      headers: { ...json, authorization: "Bearer planted" },
      body: JSON.stringify({ name: `${sys.podNamePrefix}${randomUUID()}`, image: "img", gpu: { id: "NVIDIA A40", count: 1 } }),
    }).catch(() => null);
    if (res?.status === 201) i += 1;
    else await sleep(100);
  }
}

/** Terminates the pods of `n` running deployments behind trainpod's back: each must end FAILED / POD_VANISHED. */
/** Deletes the pods of `n` of the long-running deployments (`longIds`: they train for ~15 s) behind trainpod's back. */
async function vanishPods(sys: ChaosSystem, longIds: string[], n: number, done: () => boolean): Promise<string[]> {
  const victims: string[] = [];
  while (victims.length < n && !done()) {
    const running = await sys.db.prisma.deployment.findMany({ where: { id: { in: longIds.slice(0, n) }, status: "RUNNING" }, select: { id: true, podId: true } });
    for (const d of running) {
      if (victims.includes(d.id) || !d.podId) continue;
      for (let tries = 0; tries < 50; tries += 1) {
        const res = await fetch(`${sys.sim.apiUrl}/pods/${d.podId}`, { method: "DELETE", headers: { authorization: "Bearer vanish" } }).catch(() => null);
        if (res && (res.status === 204 || res.status === 400)) break;
        await sleep(100);
      }
      victims.push(d.id);
    }
    await sleep(300);
  }
  return victims;
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
    if (closed === ids.length && pods.every((p) => p.desiredStatus === "TERMINATED")) return;
    await sleep(500);
  }
}

async function phase(sys: ChaosSystem, o: ChaosOptions, name: string, n: number, rng: Rng, disturb: (ids: string[], done: () => boolean, longIds: string[]) => Promise<Partial<ChaosFigures>>): Promise<ChaosFigures> {
  const t0 = Date.now();
  const ids: string[] = [];
  const longIds: string[] = [];
  let closedNow = 0;
  let finished = false;
  const poll = setInterval(() => void closedCount(sys, ids).then((c) => (closedNow = c)).catch(() => undefined), 300);
  const disturbance = disturb(ids, () => finished, longIds);
  const submitted = await submitAll(sys, { phase: name, n, concurrency: 10, window: o.window, longOnes: name === "workers" ? o.vanish : 0, unfinished: () => ids.length - closedNow, rng, sink: ids, longSink: longIds });
  o.log(`${name}: ${n} submitted in ${Math.round((Date.now() - t0) / 1000)} s (${submitted.retries} retried submissions)`);
  const end = Date.now() + o.timeoutMs;
  while (Date.now() < end && (await closedCount(sys, ids)) < ids.length) await sleep(500);
  finished = true;
  clearInterval(poll);
  const extra = await disturbance;
  await settle(sys, ids, 30_000);
  const stats = await simAdmin<{ faults: Record<string, number> }>(sys, "/admin/stats");
  const invariants = await checkInvariants({ prisma: sys.db.prisma, queues: sys.queues, simPods: await simAdmin<SimPodView[]>(sys, "/admin/pods"), submitted: ids, podNamePrefix: sys.podNamePrefix });
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
    secretsInLogs: countSecrets(sys),
    stalledJobs: countStalled(sys),
    seconds: Math.round((Date.now() - t0) / 1000),
    invariants,
    ...extra,
  };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosFigures[]> {
  const rng = seededRandom(o.seed);
  const sys = await startChaosSystem({ workers: o.workers, seed: o.seed, timings: o.timings });
  try {
    const r = o.faultRate;
    await simAdmin(sys, "/admin/config", { faults: { rateLimit: r, serverError: r, slow: r, slowMs: 1500, drop: r / 4, retryAfterSeconds: 1 } });
    await plantOrphans(sys, o.orphans);
    const workers = await phase(sys, o, "workers", o.deployments, rng, async (_ids, done, longIds) => {
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
      await vanishing;
      o.log(`workers: ${sys.pool.kills} worker processes SIGKILLed and restarted`);
      return { capacityOutages: outages };
    });
    if (o.redisRestarts === 0 || o.redisPhaseDeployments === 0) return [workers];
    const redis = await phase(sys, o, "redis", o.redisPhaseDeployments, rng, async (ids, done) => {
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
