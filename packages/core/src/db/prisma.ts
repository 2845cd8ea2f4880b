import { Pool } from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";

export { Prisma, PrismaClient } from "../generated/prisma/client";
export type * from "../generated/prisma/client";

export interface PrismaOptions {
  databaseUrl: string;
  /** pool size of the underlying pg pool */
  maxConnections?: number;
}

/** each client's pg pool (pgPoolOf) */
const pools = new WeakMap<object, Pool>();

/** Prisma 7 with the pg driver adapter: no native engine at run time. */
export function createPrismaClient(options: PrismaOptions): PrismaClient {
  const pool = new Pool({ connectionString: options.databaseUrl, max: options.maxConnections ?? 10 });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(prisma, pool);
  return prisma;
}

/**
 * The pg pool under a client that createPrismaClient made (the same connections), for a statement on a hot path
 * that Prisma's raw-query runtime would slow (db/named-statement.ts); undefined for any other client (a
 * transaction's, an extended one).
 */
export function pgPoolOf(prisma: object): Pool | undefined {
  const pool = pools.get(prisma);
  // after $disconnect the adapter ended it (a later query of the client opens a pool of its own)
  return pool && !pool.ending ? pool : undefined;
}

/** Answers whether Postgres responds, within timeoutMs. */
export async function pingDatabase(prisma: PrismaClient, timeoutMs = 2000): Promise<void> {
  await withTimeout(prisma.$queryRaw`SELECT 1`, timeoutMs, "postgres");
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
