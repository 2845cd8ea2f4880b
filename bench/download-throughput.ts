/**
 * `npx tsx --conditions=development bench/download-throughput.ts [sizeMB=200]`
 * Download throughput of a dataset through the API (token claim, file stream, HTTP on localhost)
 * against `cat file > /dev/null` on the same (page-cache warm) file. Uses a throwaway database.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { startApi } from "@trainpod/api";
import {
  createLogger,
  createPrismaClient,
  createUserWithKey,
  LocalFileStorage,
  loadConfig,
  mintDatasetToken,
  systemClock,
} from "@trainpod/core";
import { deployMigrations } from "../scripts/db/migrate";
import { makeDeployment } from "../test/factories";
import { databaseUrl, quoteIdent, withAdminClient } from "../test/support/pg-admin";

const sizeMb = Number(process.argv[2] ?? 200);

function jsonl(bytes: number): Readable {
  const row = `${JSON.stringify({ prompt: "p".repeat(400), completion: "c".repeat(600) })}\n`;
  const block = Buffer.from(row.repeat(1024));
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return this.push(null);
      sent += block.length;
      this.push(block);
    },
  });
}

function httpGet(url: string): Promise<{ bytes: number; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        let bytes = 0;
        res.on("data", (c: Buffer) => (bytes += c.length));
        res.on("end", () => resolve({ bytes, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      })
      .on("error", reject);
  });
}

function catMs(file: string): number {
  const started = process.hrtime.bigint();
  execFileSync("sh", ["-c", 'cat "$1" > /dev/null', "sh", file]);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const dbName = `tp_bench_${randomBytes(4).toString("hex")}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "trainpod-bench-"));
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(dbName)}`));
  await deployMigrations({ databaseUrl: databaseUrl(dbName) });
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl(dbName),
    DATASET_DIR: path.join(dir, "datasets"),
    LOG_LEVEL: "warn",
    QUEUE_PREFIX: `{tp-bench-${randomBytes(3).toString("hex")}}`,
    API_HOST: "127.0.0.1",
    API_PORT: "0",
  });
  const prisma = createPrismaClient({ databaseUrl: config.env.DATABASE_URL });
  const storage = new LocalFileStorage(config.env.DATASET_DIR);
  const logger = createLogger({ service: "bench", level: "warn", format: "json" });
  const served = await startApi(config, { logger, prisma, datasetStorage: storage });
  try {
    const base = served.url;
    const { user } = await createUserWithKey(prisma, { email: "bench@example.com" });
    const key = `datasets/${user.id}/bench.jsonl`;
    const put = await storage.put(key, jsonl(sizeMb * 1024 * 1024));
    const ds = await prisma.dataset.create({
      data: {
        userId: user.id,
        name: "bench",
        storageKey: key,
        sizeBytes: BigInt(put.sizeBytes),
        sha256: put.sha256,
        format: "prompt_completion",
        rowCount: 0,
      },
    });
    const dep = await makeDeployment(prisma, { userId: user.id, datasetId: ds.id });
    const file = await storage.resolve(key);
    const mb = put.sizeBytes / (1024 * 1024);
    catMs(file); // warm the page cache for both
    const runs = 3;
    const api: number[] = [];
    const cat: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = await mintDatasetToken(
        { prisma, clock: systemClock, config: { env: config.env, publicUrl: base } },
        { deploymentId: dep.id },
      );
      const got = await httpGet(t.url);
      if (got.bytes !== put.sizeBytes) throw new Error(`short download: ${got.bytes}`);
      api.push(mb / (got.ms / 1000));
      cat.push(mb / (catMs(file) / 1000));
    }
    const best = (xs: number[]) => Math.max(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    process.stdout.write(
      [
        `file: ${mb.toFixed(1)} MiB, ${runs} runs (MB/s = MiB/s)`,
        `api download : median ${median(api).toFixed(0)} MB/s, best ${best(api).toFixed(0)} MB/s`,
        `cat > /dev/null: median ${median(cat).toFixed(0)} MB/s, best ${best(cat).toFixed(0)} MB/s`,
        `ratio api/cat (median): ${(median(api) / median(cat)).toFixed(2)}`,
        "",
      ].join("\n"),
    );
  } finally {
    await served.close();
    await prisma.$disconnect();
    await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
