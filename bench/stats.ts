/**
 * `npx tsx --conditions=development bench/stats.ts [deployments] [calls]`
 * GET /v1/stats latency on a scratch database seeded (in SQL, generate_series) with 100,000
 * deployments over a year (every status, failure reasons, costs, setup times) and as many download
 * tokens; the API on a real port, ~20 calls over the whole year after 3 warm-ups; p50 / p99.
 */
import { startApi, type RunningApi } from "@trainpod/api";
import { createUserWithKey, loadConfig } from "@trainpod/core";
import { deletePrefix } from "../test/support/test-redis";
import { createBenchDb, discardLogger, fmt, main, percentile, QUICK, REDIS_URL, report } from "./support";

const N = Number(process.argv[2] ?? (QUICK ? 10_000 : 100_000));
const CALLS = Number(process.argv[3] ?? 20);

const SEED = `
WITH u AS (SELECT id FROM "User" LIMIT 1), d AS (SELECT id FROM "Dataset" LIMIT 1),
g AS (SELECT i, now() - (i % 365) * interval '1 day' - (i % 1440) * interval '1 minute' AS created FROM generate_series(1, $1::int) i)
INSERT INTO "Deployment" (id, "userId", "datasetId", "baseModel", "gpuTypeIds", "imageName", "containerDiskInGb", "volumeInGb",
  "maxRuntimeMinutes", "maxCostMicros", "setupTimeoutMinutes", status, "failureReason", "exitCode", attempts, "capacityWaits",
  "terminateAttempts", "createdAt", "updatedAt", "runningAt", "trainingStartedAt", "finishedAt", "podTerminatedAt", "runtimeSeconds", "costMicros")
SELECT gen_random_uuid(), u.id, d.id, 'm', ARRAY['NVIDIA A40'], 'img', 20, 20, 60, 10000000, 20,
  (CASE WHEN i % 10 < 6 THEN 'SUCCEEDED' WHEN i % 10 < 9 THEN 'FAILED' WHEN i % 100 = 99 THEN 'RUNNING' ELSE 'CANCELLED' END)::"DeploymentStatus",
  (CASE WHEN i % 10 BETWEEN 6 AND 8 THEN (ARRAY['TRAINING_FAILED','NO_CAPACITY','SETUP_TIMEOUT','DATASET_DOWNLOAD_FAILED','HEARTBEAT_TIMEOUT'])[1 + i % 5] END)::"FailureReason",
  CASE WHEN i % 10 BETWEEN 6 AND 8 THEN 1 END, 1 + i % 3, i % 4, 1 + (i % 7 = 0)::int,
  created, created, created + (20 + i % 200) * interval '1 second', created + (40 + i % 300) * interval '1 second',
  created + (600 + i % 5000) * interval '1 second', created + (601 + i % 5000) * interval '1 second', 600 + i % 5000, 100000 + (i % 5000) * 219
FROM g, u, d`;

const SEED_TOKENS = `
INSERT INTO "DatasetDownloadToken" (id, "tokenHash", "datasetId", "userId", "expiresAt", "usedAt", "revokedAt", "createdAt")
SELECT gen_random_uuid(), md5(i::text), d.id, d."userId", now() - (i % 365) * interval '1 day' + interval '2 hours',
  CASE WHEN i % 4 = 0 THEN now() - (i % 365) * interval '1 day' END, CASE WHEN i % 4 = 1 THEN now() END, now() - (i % 365) * interval '1 day'
FROM generate_series(1, $1::int) i, (SELECT id, "userId" FROM "Dataset" LIMIT 1) d`;

main(async () => {
  const db = await createBenchDb(10);
  const prefix = `{bench-stats-${process.pid}}`;
  let api: RunningApi | undefined;
  try {
    const { user, key } = await createUserWithKey(db.prisma, { email: "bench-admin@example.com", role: "ADMIN" });
    await db.prisma.dataset.create({
      data: {
        userId: user.id,
        name: "b",
        storageKey: "b",
        sizeBytes: 1n,
        sha256: "0".repeat(64),
        format: "chat",
        rowCount: 1,
      },
    });
    const t = Date.now();
    await db.prisma.$executeRawUnsafe(SEED, N);
    await db.prisma.$executeRawUnsafe(SEED_TOKENS, N);
    await db.prisma.$executeRawUnsafe(`ANALYZE "Deployment"; ANALYZE "DatasetDownloadToken"`);
    const seedMs = Date.now() - t;
    const config = loadConfig({
      NODE_ENV: "production",
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      API_PORT: "0",
    });
    api = await startApi(config, { logger: discardLogger("api"), prisma: db.prisma });
    const base = api.url;
    const measure = async (days: number) => {
      const from = new Date(Date.now() - days * 24 * 3600_000).toISOString();
      const url = `${base}/v1/stats?from=${from}&to=${new Date(Date.now() + 60_000).toISOString()}&groupBy=${days > 60 ? "month" : "day"}`;
      const call = async () => {
        const s = performance.now();
        const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
        const body = (await res.json()) as { deployments: { total: number } };
        if (res.status !== 200 || body.deployments.total === 0)
          throw new Error(`stats answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
        return { ms: performance.now() - s, total: body.deployments.total };
      };
      for (let i = 0; i < 3; i += 1) await call();
      const runs: { ms: number; total: number }[] = [];
      for (let i = 0; i < CALLS; i += 1) runs.push(await call());
      const ms = runs.map((r) => r.ms);
      const label = `${days}-day window, ${fmt(runs[0]?.total ?? 0)} of ${fmt(N)} deployments`;
      return [
        { bench: "stats", metric: `GET /v1/stats p50 (${label})`, value: `${fmt(percentile(ms, 50), 1)} ms` },
        {
          bench: "stats",
          metric: `GET /v1/stats p99 (${label}, ${CALLS} calls)`,
          value: `${fmt(percentile(ms, 99), 1)} ms`,
        },
      ];
    };
    const rows = [...(await measure(366)), ...(await measure(30))];
    report(rows, [`seeded ${fmt(N)} deployments + ${fmt(N)} tokens (SQL generate_series) in ${fmt(seedMs)} ms`]);
  } finally {
    await api?.close();
    await db.drop();
    await deletePrefix(prefix);
  }
});
