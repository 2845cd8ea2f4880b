import { randomBytes } from "node:crypto";
import { createPrismaClient, type PrismaClient } from "@trainpod/core";
import { databaseUrl, quoteIdent, withAdminClient } from "./pg-admin";

export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file, cloned from the template global-setup built. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = process.env.TRAINPOD_TEST_TEMPLATE_DB;
  const runId = process.env.TRAINPOD_TEST_RUN_ID;
  if (!template || !runId) throw new Error("jest globalSetup did not run (TRAINPOD_TEST_TEMPLATE_DB unset)");
  const name = `tp_t_${runId}_${randomBytes(5).toString("hex")}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`));
  return databaseHandle(name, 5);
}

/** A Prisma client on an existing database, and a drop() that disconnects and drops it. */
export function databaseHandle(name: string, maxConnections: number): TestDatabase {
  const url = databaseUrl(name);
  const prisma = createPrismaClient({ databaseUrl: url, maxConnections });
  return {
    name,
    url,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}

/**
 * This test file's own database, created before its tests and dropped after them (jest's beforeAll/afterAll).
 * The handle is filled in by beforeAll: read its fields inside tests and hooks, not at the file's top level.
 */
export function useTestDatabase(): TestDatabase {
  const handle = {} as TestDatabase;
  beforeAll(async () => {
    Object.assign(handle, await createTestDatabase());
  });
  afterAll(async () => {
    await handle.drop?.();
  });
  return handle;
}
