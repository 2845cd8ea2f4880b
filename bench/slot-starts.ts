/**
 * `npx tsx --conditions=development bench/slot-starts.ts [N=20] [LIMIT=10]`  (about 1 min)
 * When one user's runs start under a slot limit: N runs submitted at once with USER_MAX_LIVE_DEPLOYMENTS=LIMIT
 * (the default 10), the whole system as bench #2 runs it (sim process, API, worker in-process). Each run's start
 * is its slot claim (podRequestedAt) after the first submission; for the runs past the limit, the time from the
 * release that let it start (the k-th pod termination, podTerminatedAt, in order) to its claim. Not part of
 * `npm run bench`; figures in BENCHMARKS.md.
 */
import { fmt, main, median, percentile, startBenchSystem, submit, until } from "./support";

const N = Number(process.argv[2] ?? 20);
const LIMIT = Number(process.argv[3] ?? 10);
/** a run of a few seconds: long enough that the first LIMIT still run when the others are first looked at */
const TRAINER = { steps: 20, sim_step_ms: 200 };

main(async () => {
  const sys = await startBenchSystem({
    worker: true,
    env: { USER_MAX_LIVE_DEPLOYMENTS: String(LIMIT), USER_MAX_GPUS: "0" },
  });
  try {
    const t0 = Date.now();
    const ids = await Promise.all(Array.from({ length: N }, () => submit(sys, TRAINER)));
    const rows = () => sys.db.prisma.deployment.findMany({ where: { id: { in: ids } }, orderBy: { createdAt: "asc" } });
    await until(`${N} runs closed`, async () => (await rows()).every((d) => d.podTerminatedAt !== null), 600_000, 200);
    const all = await rows();
    const s = (d: Date | null) => ((d?.getTime() ?? NaN) - t0) / 1000;
    const starts = all.map((d) => s(d.podRequestedAt));
    const releases = all.map((d) => s(d.podTerminatedAt)).sort((a, b) => a - b);
    // the k-th run past the limit may start once k pods are released
    const afterRelease = starts.slice(LIMIT).map((start, k) => start - (releases[k] ?? NaN));
    const waited = await sys.db.prisma.deploymentEvent.count({ where: { deploymentId: { in: ids }, type: "waiting" } });
    const outcomes = all.map((d) => d.status).filter((st) => st !== "SUCCEEDED");
    console.log(
      [
        `${N} runs of one user submitted at once, USER_MAX_LIVE_DEPLOYMENTS=${LIMIT}, trainer ${JSON.stringify(TRAINER)}`,
        `starts (s after the first submission, submission order): ${starts.map((x) => x.toFixed(1)).join(", ")}`,
        `the first ${LIMIT}: all started by ${Math.max(...starts.slice(0, LIMIT)).toFixed(1)} s`,
        `the other ${N - LIMIT}: start after the release that freed their slot, p50 ${fmt(median(afterRelease) * 1000)} ms, max ${fmt(percentile(afterRelease, 100) * 1000)} ms`,
        `waiting events ${waited}; not SUCCEEDED ${outcomes.length}; all closed after ${(Math.max(...releases) || 0).toFixed(1)} s`,
      ].join("\n"),
    );
  } finally {
    await sys.stop();
  }
});
