import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";

export { Prisma, PrismaClient } from "../generated/prisma/client";
export type * from "../generated/prisma/client";

export interface PrismaOptions {
  databaseUrl: string;
  /** pool size of the underlying pg pool */
  maxConnections?: number;
}

/** Prisma 7 with the pg driver adapter: no native engine at run time. */
export function createPrismaClient(options: PrismaOptions): PrismaClient {
  const adapter = new PrismaPg({ connectionString: options.databaseUrl, max: options.maxConnections ?? 10 });
  return new PrismaClient({ adapter });
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
