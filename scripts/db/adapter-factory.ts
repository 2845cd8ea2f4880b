// The driver-adapter factory handed to the wasm schema engine: @prisma/adapter-pg with three
// fixes for its 7.10.1 migration path (see docs in /work/shared/notes/stack-facts.md).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
export const SHADOW_DB_PREFIX = "prisma_migrate_shadow_db_";

interface RowDescription {
  fields: { dataTypeID: number }[];
}

/**
 * adapter-pg rejects PostgreSQL's internal `"char"` type (e.g. pg_constraint.contype), which breaks
 * every introspection; its values are plain one-letter strings, so it is reported as text before the
 * client parses the row description.
 */
function reportCharAsText(client: pg.PoolClient): void {
  if (!(client instanceof pg.Client)) return;
  client.connection.prependListener("rowDescription", (msg: RowDescription) => {
    for (const field of msg.fields) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
  });
}

function createPool(connectionString: string): pg.Pool {
  // idle clients are never reaped: one of them may hold the engine's session advisory lock until close()
  const pool = new pg.Pool({ connectionString, max: 4, idleTimeoutMillis: 0 });
  pool.on("connect", reportCharAsText);
  return pool;
}

/**
 * adapter-pg's executeScript splits on `;` (breaking `$$` bodies and atomicity). Parameterless
 * queries go over the simple protocol, so the whole script runs as one implicit transaction,
 * like the native engine, while errors keep adapter-pg's conversion.
 */
async function connectAdapter(connectionString: string, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
  const inner = await new PrismaPg(createPool(connectionString), { disposeExternalPool: true }).connect();
  let disposed: Promise<void> | undefined;
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: (query) => inner.queryRaw(query),
    executeRaw: (query) => inner.executeRaw(query),
    startTransaction: (isolationLevel) => inner.startTransaction(isolationLevel),
    getConnectionInfo: () => inner.getConnectionInfo(),
    executeScript: async (script) => {
      await inner.executeRaw({ sql: script, args: [], argTypes: [] });
    },
    dispose: () => (disposed ??= inner.dispose().then(onDispose)),
  };
}

export function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

export function databaseName(connectionString: string): string {
  const name = decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, ""));
  if (!name) throw new Error(`DATABASE_URL has no database name: ${redact(connectionString)}`);
  return name;
}

export function redact(connectionString: string): string {
  return connectionString.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TemporaryDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A `prisma_migrate_shadow_db_<uuid>` database on the server of connectionString. */
export async function createTemporaryDatabase(connectionString: string): Promise<TemporaryDatabase> {
  const name = `${SHADOW_DB_PREFIX}${randomUUID()}`;
  await withClient(connectionString, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return {
    url: withDatabase(connectionString, name),
    drop: async () => {
      await withClient(connectionString, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}

export interface MigrationAdapterFactory extends SqlMigrationAwareDriverAdapterFactory {
  /** Disposes whatever the engine left open, dropping any shadow database still present. */
  close(): Promise<void>;
}

/**
 * adapter-pg's connectToShadowDb points its pool at the main database and never drops the
 * shadow database it created; this one creates a real `prisma_migrate_shadow_db_<uuid>` and
 * drops it WITH (FORCE) once the engine disposes it (or at close()).
 */
export function createMigrationAdapterFactory(connectionString: string): MigrationAdapterFactory {
  const open = new Set<SqlDriverAdapter>();
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    open.add(adapter);
    return adapter;
  };
  return {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: async () => track(await connectAdapter(connectionString)),
    connectToShadowDb: async () => {
      const shadow = await createTemporaryDatabase(connectionString);
      return track(await connectAdapter(shadow.url, shadow.drop));
    },
    close: async () => {
      const results = await Promise.allSettled([...open].map((adapter) => adapter.dispose()));
      open.clear();
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}
