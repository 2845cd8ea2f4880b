/**
 * `npx tsx --conditions=development bench/monitor.ts [N=10000]`  (BENCH_QUICK=1: N=1000)
 * One monitorTick with N live deployments and N simulator pods: N idle pods created through the
 * sim's REST API (no start command, boot delay 0), N Deployment rows inserted directly with
 * createMany (90% RUNNING with a fresh heartbeat, 10% PROVISIONING whose pod is already running).
 * The first tick is cold (under v2 it moves no PROVISIONING deployment to RUNNING: the pod's own
 * `started` report does; the bench counts the moves); the next ticks are the steady state. Wall time, RunPod calls per tick (sim stats) and this process's RSS.
 */
import { systemClock } from "@trainpod/core";
import { MONITORED_SELECT, monitorTick } from "../packages/core/src/lifecycle/monitor-tick";
import { createWorkerContainer, processorDeps } from "@trainpod/worker";
import { discardLogger, fmt, main, median, QUICK, report, rssMb, runpodCalls, startBenchSystem } from "./support";

const N = Number(process.argv[2] ?? (QUICK ? 1000 : 10_000));
const STEADY_TICKS = QUICK ? 2 : 3;
const GPU = "NVIDIA GeForce RTX 4090";

main(async () => {
  // the N fixture pods are created straight through the sim's REST API, faster than its default
  // quota (6,000 a minute) allows: a quota that does not stand in the fixture's way
  const sys = await startBenchSystem({
    worker: false,
    simEnv: { SIM_QUOTA: JSON.stringify({ minute: 1_000_000, hour: 10_000_000 }) },
  });
  const container = createWorkerContainer(sys.config, { logger: discardLogger("worker"), clock: systemClock });
  try {
    const deps = processorDeps(container);
    const prefix = sys.config.env.POD_NAME_PREFIX;
    // N idle pods through the sim's REST API, 50 requests in flight
    const t0 = performance.now();
    const podIds: string[] = new Array<string>(N);
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < N) {
          const i = next++;
          const res = await fetch(`${sys.sim.apiUrl}/pods`, {
            method: "POST",
            headers: { authorization: "Bearer bench", "content-type": "application/json" },
            body: JSON.stringify({
              name: `${prefix}bench-${i}`,
              image: "runpod/pytorch:bench",
              gpu: { id: GPU, count: 1 },
              disk: 1,
            }),
          });
          if (res.status !== 201) throw new Error(`create pod: ${res.status} ${await res.text()}`);
          podIds[i] = ((await res.json()) as { id: string }).id;
        }
      }),
    );
    const createPodsMs = performance.now() - t0;
    const now = new Date();
    const t1 = performance.now();
    for (let start = 0; start < N; start += 2000) {
      await sys.db.prisma.deployment.createMany({
        data: podIds.slice(start, start + 2000).map((podId, j) => {
          const provisioning = (start + j) % 10 === 0;
          return {
            userId: sys.user.id,
            datasetId: sys.user.datasetId,
            baseModel: "tiny-llama",
            gpuTypeIds: [GPU],
            imageName: "runpod/pytorch:bench",
            containerDiskInGb: 1,
            volumeInGb: 0,
            maxRuntimeMinutes: 240,
            maxCostMicros: 50_000_000n,
            setupTimeoutMinutes: 20,
            status: provisioning ? ("PROVISIONING" as const) : ("RUNNING" as const),
            podId,
            costPerHrMicros: 690_000n,
            provisioningAt: now,
            podCreatedAt: now,
            runningAt: provisioning ? null : now,
            lastHeartbeatAt: provisioning ? null : now,
          };
        }),
      });
    }
    const insertMs = performance.now() - t1;
    const rssBefore = rssMb();
    const tick = async () => {
      const before = runpodCalls(await sys.simStats());
      const s = performance.now();
      const r = await monitorTick(deps.lifecycle, deps.monitor);
      const ms = performance.now() - s;
      const calls = runpodCalls(await sys.simStats()) - before;
      return { ms, calls, r, rss: rssMb() };
    };
    // under v2 the tick moves no deployment PROVISIONING→RUNNING (the pod's own `started` report does):
    // counted rather than assumed
    const runningRows = () => sys.db.prisma.deployment.count({ where: { status: "RUNNING" } });
    const runningBefore = await runningRows();
    const first = await tick();
    const movedToRunning = (await runningRows()) - runningBefore;
    const steady = [];
    for (let i = 0; i < STEADY_TICKS; i++) steady.push(await tick());
    const steadyMs = median(steady.map((t) => t.ms));
    // where a tick's time goes: the listing (HTTP + JSON + zod) and the live-deployments query, alone
    const timed = async (fn: () => Promise<unknown>) => {
      const xs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const s = performance.now();
        await fn();
        xs.push(performance.now() - s);
      }
      return median(xs);
    };
    const listMs = await timed(() => deps.lifecycle.runpod.listPods({ namePrefix: prefix }));
    const findMs = await timed(() =>
      sys.db.prisma.deployment.findMany({
        where: { status: { in: ["PROVISIONING", "RUNNING"] }, podId: { not: null } },
        select: MONITORED_SELECT,
      }),
    );
    const calls = Math.max(...steady.map((t) => t.calls), first.calls);
    const rss = Math.max(first.rss, ...steady.map((t) => t.rss));
    const scaled = N < 10_000 ? ` (N=${N}, not 10,000)` : "";
    report(
      [
        {
          bench: "3 monitor",
          metric: `tick wall time, steady state, ${fmt(N)} live${scaled}`,
          value: `${fmt(steadyMs)} ms`,
          target: "< 1,000 ms",
          met: steadyMs < 1000,
        },
        {
          bench: "3 monitor",
          metric: `first tick (${fmt(N - runningBefore)} PROVISIONING, of them moved to RUNNING by the tick: ${fmt(movedToRunning)})`,
          value: `${fmt(first.ms)} ms`,
        },
        {
          bench: "3 monitor",
          metric: "of which: pod listing alone / live-deployments query alone",
          value: `${fmt(listMs)} / ${fmt(findMs)} ms`,
        },
        {
          bench: "3 monitor",
          metric: "RunPod calls per tick",
          value: String(calls),
          target: "1 listing",
          met: calls === 1,
        },
        {
          bench: "3 monitor",
          metric: "process RSS after ticks (API idle + worker deps)",
          value: `${fmt(rss)} MB (before ticks ${fmt(rssBefore)} MB)`,
        },
      ],
      [
        `${fmt(N)} sim pods created via REST in ${fmt(createPodsMs)} ms (${fmt(N / (createPodsMs / 1000))}/s), rows inserted in ${fmt(insertMs)} ms; steady ticks: ${steady.map((t) => fmt(t.ms)).join(", ")} ms; first tick's result: pods ${first.r.pods}, live ${first.r.live}, running ${first.r.running}, failed ${first.r.failed.length}, listing misses read by id ${first.r.listingMisses ?? 0}; under v2 PROVISIONING→RUNNING is the pod's \`started\` report, not the tick`,
      ],
    );
  } finally {
    await container.close();
    await sys.stop();
  }
});
