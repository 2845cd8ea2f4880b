/**
 * `npx tsx --conditions=development bench/artifact-download.ts [sizeMB=200] [runs=5]`
 * One artifact of sizeMB MiB downloaded by its owner (`GET /v1/deployments/:id/artifacts/<path>`, API key) with curl
 * (bench/curl-client.ts, its own process) from two APIs started as main.ts starts them, in this process, on one
 * throwaway database:
 *   (a) STORAGE=local: the API streams the file from ARTIFACT_DIR;
 *   (b) STORAGE=s3: the API answers 302 to a presigned GET (timed: the redirect round trip), then curl fetches the
 *       object from the S3 server (timed: the transfer); the server is LocalStack (test/support/s3-server.ts), a
 *       Python emulator on this machine, not AWS;
 *   (c) `cat` of the same file (page cache warm) to /dev/null, timed by bash's `time`: the ceiling.
 * Runs alternate a, b, c after one untimed warm-up of each, 1 s apart; MB = MiB. Also counts the bytes on the API's
 * sockets (its HTTP server's, and its clients': Postgres, Redis, S3) and the CPU of the API, curl/cat and LocalStack.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { PerformanceObserver } from "node:perf_hooks";
import path from "node:path";
import { Readable } from "node:stream";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { startApi, type RunningApi } from "@trainpod/api";
import {
  confineToDeploymentFolders,
  createBlobStorage,
  createUserWithKey,
  LocalFileStorage,
  loadConfig,
} from "@trainpod/core";
import { makeDataset, makeDeployment } from "../test/factories";
import { startS3Server, TEST_S3_CREDENTIALS, TEST_S3_REGION, testS3Client } from "../test/support/s3-server";
import { deletePrefix } from "../test/support/test-redis";
import { startCurlClient } from "./curl-client";
import { createBenchDb, discardLogger, fmt, main, median, percentile, processCpuMs, processTreeCpuMs } from "./support";
import { REDIS_URL, sleep, table } from "./support";

const sizeMb = Number(process.argv[2] ?? 200);
const RUNS = Number(process.argv[3] ?? 5);
const MiB = 1024 * 1024;

// every client socket of this process (Postgres, Redis, the S3 client), counted from before any of them connects
const clientSockets = new Set<net.Socket>();
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  clientSockets.add(this);
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;
const bytesOf = (sockets: Iterable<net.Socket>): { read: number; written: number } => {
  const sum = { read: 0, written: 0 };
  for (const s of sockets) {
    sum.read += s.bytesRead;
    sum.written += s.bytesWritten;
  }
  return sum;
};
// garbage-collection pauses in this process (the APIs'), ms
let gcMs = 0;
new PerformanceObserver((list) => list.getEntries().forEach((e) => (gcMs += e.duration))).observe({
  entryTypes: ["gc"],
});

/** incompressible bytes (one random MiB repeated), like model weights; the same in both stores */
const block = randomBytes(MiB);
const weights = (bytes: number): Readable =>
  Readable.from(
    (function* () {
      for (let sent = 0; sent < bytes; sent += MiB) yield block;
    })(),
    { objectMode: false },
  );

main(async () => {
  const load = os.loadavg();
  const s3 = await startS3Server();
  const db = await createBenchDb();
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-bench-artifacts-"));
  const prefix = `{tp-bench-${randomBytes(5).toString("hex")}}`;
  const bucket = `tp-bench-${randomBytes(6).toString("hex")}`;
  const admin = testS3Client(s3.endpoint);
  const apis: RunningApi[] = [];
  const client = startCurlClient();
  try {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    // the SDK's default chain, as in production
    process.env.AWS_ACCESS_KEY_ID = TEST_S3_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = TEST_S3_CREDENTIALS.secretAccessKey;
    const artifactDir = path.join(dir, "artifacts");
    const base = { ...process.env, DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, API_HOST: "127.0.0.1" };
    const local = loadConfig({ ...base, API_PORT: "0", RATE_LIMIT_PER_MINUTE: "0", ARTIFACT_DIR: artifactDir });
    const remote = loadConfig({
      ...base,
      API_PORT: "0",
      RATE_LIMIT_PER_MINUTE: "0",
      ...{
        STORAGE: "s3",
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: bucket,
        S3_REGION: TEST_S3_REGION,
        S3_FORCE_PATH_STYLE: "true",
      },
    });
    const localStore = new LocalFileStorage(artifactDir);
    const s3Store = createBlobStorage(remote, "artifacts");
    // the HTTP server's sockets of each API (curl's requests in, answers out)
    const served = new Map<string, Set<net.Socket>>();
    for (const [config, artifactStorage] of [
      [local, localStore],
      [remote, s3Store],
    ] as const) {
      const api = await startApi(config, { logger: discardLogger("api"), prisma: db.prisma, artifactStorage });
      const sockets = new Set<net.Socket>();
      api.server.on("connection", (s: net.Socket) => sockets.add(s));
      served.set(api.url, sockets);
      apis.push(api);
    }
    const [localApi, s3Api] = apis as [RunningApi, RunningApi];

    // the row a finished run leaves: a STORED artifact of a deployment of a user with an API key
    const { user, key } = await createUserWithKey(db.prisma, { email: "bench@example.com", role: "USER" });
    const ds = await makeDataset(db.prisma, user.id);
    const dep = await makeDeployment(db.prisma, { userId: user.id, datasetId: ds.id }, { status: "SUCCEEDED" });
    const artifactPath = "adapter/model.safetensors";
    const storageKey = `${dep.id}/${artifactPath}`;
    const bytes = sizeMb * MiB;
    const putLocal = await confineToDeploymentFolders(localStore).put(storageKey, weights(bytes));
    const putS3 = await s3Store.put(storageKey, weights(bytes));
    if (putLocal.sizeBytes !== bytes || putS3.sha256 !== putLocal.sha256)
      throw new Error("the stores hold other bytes");
    await db.prisma.artifact.create({
      data: {
        deploymentId: dep.id,
        path: artifactPath,
        storageKey,
        sizeBytes: BigInt(bytes),
        sha256: putLocal.sha256,
        status: "STORED",
        uploadedAt: new Date(),
      },
    });
    const file = await localStore.resolve(storageKey);
    const route = `/v1/deployments/${dep.id}/artifacts/${artifactPath}`;
    const auth = `authorization: Bearer ${key}`;

    type Kind = "a" | "b" | "c";
    const rate: Record<Kind, number[]> = { a: [], b: [], c: [] };
    const transfer: number[] = [];
    const redirectMs: number[] = [];
    const ttfb: Record<Kind, number[]> = { a: [], b: [], c: [] };
    const served1: Record<Kind, { read: number; written: number }[]> = { a: [], b: [], c: [] };
    const clientBytes: Record<Kind, number[]> = { a: [], b: [], c: [] };
    const cpu: Record<Kind, { api: number; kernel: number; gc: number; client: number; s3: number }[]> = {
      a: [],
      b: [],
      c: [],
    };
    const catStart: number[] = [];
    for (let i = 0; i < 5; i++) catStart.push(await client.cat("/dev/null"));
    const cpuNow = () => ({
      ...{ api: processCpuMs(), kernel: process.cpuUsage().system / 1000, gc: gcMs },
      ...{ client: processTreeCpuMs(client.pid), s3: processTreeCpuMs(s3.pid) },
    });

    const once = async (kind: Kind, timed: boolean): Promise<void> => {
      const sockets = served.get(kind === "a" ? localApi.url : s3Api.url) as Set<net.Socket>;
      await sleep(1000); // the last run's garbage (200 buffers of 1 MiB) is collected before this one starts
      const s0 = bytesOf(sockets);
      const c0 = bytesOf(clientSockets);
      const cpu0 = cpuNow();
      let ms: number;
      if (kind === "c") {
        ms = await client.cat(file);
      } else if (kind === "a") {
        const r = await client.curl(`${localApi.url}${route}`, auth);
        if (r.code !== 200 || r.bytes !== bytes) throw new Error(`local: ${r.code}, ${r.bytes} bytes`);
        ms = r.totalMs;
        if (timed) ttfb.a.push(r.ttfbMs);
      } else {
        const hop = await client.curl(`${s3Api.url}${route}`, auth);
        if (hop.code !== 302 || !hop.redirect) throw new Error(`s3: ${hop.code} without a redirect`);
        // the API key stays with the API: the presigned URL is the whole authorisation
        const r = await client.curl(hop.redirect);
        if (r.code !== 200 || r.bytes !== bytes) throw new Error(`s3 object: ${r.code}, ${r.bytes} bytes`);
        ms = hop.totalMs + r.totalMs;
        if (timed) {
          redirectMs.push(hop.totalMs);
          transfer.push(sizeMb / (r.totalMs / 1000));
          ttfb.b.push(hop.totalMs + r.ttfbMs);
        }
      }
      const cpu1 = cpuNow();
      const s1 = bytesOf(sockets);
      const c1 = bytesOf(clientSockets);
      if (!timed) return;
      rate[kind].push(sizeMb / (ms / 1000));
      cpu[kind].push({
        api: cpu1.api - cpu0.api,
        kernel: cpu1.kernel - cpu0.kernel,
        gc: cpu1.gc - cpu0.gc,
        client: cpu1.client - cpu0.client,
        s3: cpu1.s3 - cpu0.s3,
      });
      served1[kind].push({ read: s1.read - s0.read, written: s1.written - s0.written });
      clientBytes[kind].push(c1.read - c0.read + (c1.written - c0.written));
    };
    for (const k of ["c", "a", "b"] as const) await once(k, false); // warm-up: page cache, JIT, pools, LocalStack
    for (let i = 0; i < RUNS; i++) for (const k of ["a", "b", "c"] as const) await once(k, true);
    // the redirect alone, 20 in a row (no transfer in between): its steady cost
    await sleep(1000);
    const hops: number[] = [];
    const hopCpu0 = processCpuMs();
    for (let i = 0; i < 20; i++) hops.push((await client.curl(`${s3Api.url}${route}`, auth)).totalMs);
    const hopCpu = (processCpuMs() - hopCpu0) / 20;

    const m = (k: Kind) => median(rate[k]);
    const list = (xs: number[], digits = 0) => xs.map((x) => fmt(x, digits)).join(", ");
    const size = (n: number) =>
      n < 10 * 1024 ? `${fmt(n)} B` : n < 10 * MiB ? `${fmt(n / 1024, 1)} KiB` : `${fmt(n / MiB, 1)} MiB`;
    const io = (k: Kind) =>
      `${size(median(served1[k].map((x) => x.read)))} in / ${size(median(served1[k].map((x) => x.written)))} out`;
    const med = (k: Kind, f: "api" | "kernel" | "gc" | "client" | "s3") => fmt(median(cpu[k].map((c) => c[f])));
    const cpuOf = (k: Kind) =>
      `${med(k, "api")} (kernel ${med(k, "kernel")}, GC ${med(k, "gc")}) / ${med(k, "client")} / ${med(k, "s3")} ms`;
    const ratios = `${(m("a") / m("c")).toFixed(2)}, ${(m("b") / m("c")).toFixed(2)}, ${(m("b") / m("a")).toFixed(2)}`;
    const rows: string[][] = [
      ["(a) API, STORAGE=local: curl → API → file", `${fmt(m("a"))} MB/s`, list(rate.a)],
      ["(b) API, STORAGE=s3: 302 round trip + curl ← LocalStack", `${fmt(m("b"))} MB/s`, list(rate.b)],
      ["    (b) of which the transfer alone", `${fmt(median(transfer))} MB/s`, list(transfer)],
      [
        "    (b) of which the redirect round trip (curl's time_total)",
        `${fmt(median(redirectMs), 1)} ms`,
        list(redirectMs, 1),
      ],
      [
        "    the redirect alone, 20 in a row: round trip / API CPU each",
        `${fmt(median(hops), 1)} / ${fmt(hopCpu, 1)} ms`,
        `p90 ${fmt(percentile(hops, 90), 1)} ms`,
      ],
      ["(c) cat file > /dev/null (page cache; bash `time`)", `${fmt(m("c"))} MB/s`, list(rate.c)],
      ["    (c) cat /dev/null (fork + exec alone)", `${fmt(median(catStart), 1)} ms`, ""],
      ["ratio (a)/(c), (b)/(c), (b)/(a)", ratios, ""],
      ["first byte: (a) / (b) incl. the redirect", `${fmt(median(ttfb.a), 1)} / ${fmt(median(ttfb.b), 1)} ms`, ""],
      ["API HTTP sockets per download: (a)", io("a"), ""],
      ["API HTTP sockets per download: (b)", io("b"), ""],
      [
        "API client sockets (Postgres, Redis, S3) per download: (a) / (b)",
        `${size(median(clientBytes.a))} / ${size(median(clientBytes.b))}`,
        "",
      ],
      ["CPU per download (a): API process (kernel, GC pauses) / curl / LocalStack", cpuOf("a"), ""],
      ["CPU per download (b): API process (kernel, GC pauses) / curl / LocalStack", cpuOf("b"), ""],
      ["CPU per run (c): bench process (kernel, GC pauses) / cat / LocalStack", cpuOf("c"), ""],
    ];
    const loads = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
    process.stdout.write(
      `artifact: ${fmt(sizeMb)} MiB (random bytes), ${RUNS} runs each after a warm-up, medians (MB = MiB); S3 server: LocalStack ${s3.endpoint}\n` +
        `load average at start: ${loads(load)}; at end: ${loads(os.loadavg())}; ${os.cpus().length} cores\n` +
        table(["what", "median", "runs"], rows),
    );
  } finally {
    client.stop();
    for (const api of apis) await api.close();
    admin.destroy();
    await db.drop();
    await deletePrefix(prefix, REDIS_URL);
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
