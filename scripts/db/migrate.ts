// Offline `prisma migrate` for PostgreSQL: deploy, drift check, create and status, driven by the
// wasm schema engine. Uses Prisma's `_prisma_migrations` table, checksums and folder layout.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { HistoryDiagnostic, SchemaFilter } from "@prisma/schema-engine-wasm" with { "resolution-mode": "import" };
import {
  createMigrationAdapterFactory,
  createTemporaryDatabase,
  databaseName,
  quoteIdent,
  withClient,
  withDatabase,
} from "./adapter-factory";
import { createSchemaEngine, engineError, type SchemaEngine } from "./engine";
import { migrationNames, readMigrationsList, slugifyMigrationName, writeMigration } from "./migrations";

const REPO_ROOT = path.resolve(__dirname, "../..");
const FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

export interface PathOptions {
  /** defaults to prisma/schema.prisma in the repo */
  schemaPath?: string;
  /** defaults to prisma/migrations in the repo */
  migrationsDir?: string;
}

interface EngineOptions extends PathOptions {
  databaseUrl: string;
}

function resolvePaths(opts: PathOptions): Required<PathOptions> {
  return {
    schemaPath: path.resolve(opts.schemaPath ?? path.join(REPO_ROOT, "prisma", "schema.prisma")),
    migrationsDir: path.resolve(opts.migrationsDir ?? path.join(REPO_ROOT, "prisma", "migrations")),
  };
}

function engineLog(): ((line: string) => void) | undefined {
  return process.env.SCHEMA_ENGINE_LOG ? (line) => process.stderr.write(`${line}\n`) : undefined;
}

async function withEngine<T>(opts: EngineOptions, fn: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const { schemaPath } = resolvePaths(opts);
  const factory = createMigrationAdapterFactory(opts.databaseUrl);
  try {
    const engine = await createSchemaEngine({ schemaPath, factory, onLog: engineLog() });
    try {
      return await fn(engine);
    } finally {
      engine.free();
    }
  } catch (e) {
    throw engineError(e);
  } finally {
    await factory.close();
  }
}

function schemaFiles(schemaPath: string): { path: string; content: string }[] {
  return [{ path: schemaPath, content: readFileSync(schemaPath, "utf8") }];
}

const pgCode = (e: unknown): unknown =>
  typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;

/** Creates the database named in databaseUrl if it does not exist; true when it was created. */
export async function ensureDatabase(opts: { databaseUrl: string }): Promise<boolean> {
  try {
    await withClient(opts.databaseUrl, async () => undefined);
    return false;
  } catch (e) {
    if (pgCode(e) !== "3D000") throw e; // invalid_catalog_name: the database does not exist
  }
  const create = `CREATE DATABASE ${quoteIdent(databaseName(opts.databaseUrl))}`;
  try {
    await withClient(withDatabase(opts.databaseUrl, "postgres"), (client) => client.query(create));
    return true;
  } catch (e) {
    if (pgCode(e) === "42P04") return false; // duplicate_database: created concurrently
    throw e;
  }
}

export async function deployMigrations(
  opts: EngineOptions & { log?: (msg: string) => void },
): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => undefined);
  const migrationsList = await readMigrationsList(resolvePaths(opts).migrationsDir);
  log(`${migrationsList.migrationDirectories.length} migration(s) found in ${migrationsList.baseDir}`);
  const out = await withEngine(opts, (engine) => engine.applyMigrations({ migrationsList, filters: FILTERS }));
  const applied = out.appliedMigrationNames;
  log(applied.length ? `Applied: ${applied.join(", ")}` : "No pending migrations to apply.");
  return { applied };
}

/** Drift between the migrations folder (replayed on a shadow database) and the Prisma schema. */
export async function checkDrift(opts: EngineOptions): Promise<{ drift: boolean; sql: string }> {
  const { schemaPath, migrationsDir } = resolvePaths(opts);
  const migrationsList = await readMigrationsList(migrationsDir);
  const result = await withEngine(opts, (engine) =>
    engine.diff({
      // the engine needs migration_lock.toml to replay a history; no history means an empty database
      from: migrationsList.migrationDirectories.length ? { tag: "migrations", ...migrationsList } : { tag: "empty" },
      to: { tag: "schemaDatamodel", files: schemaFiles(schemaPath) },
      script: true,
      exitCode: true,
      filters: FILTERS,
    }),
  );
  // exitCode 2 is the engine's "diff is not empty" (prisma migrate diff --exit-code)
  return { drift: result.exitCode === 2, sql: result.stdout ?? "" };
}

/**
 * Writes a new migration folder for the schema's changes. The wasm engine only diffs against a
 * history that is fully applied to the database it is connected to (migrate dev's cache), so the
 * history is applied to a throwaway database instead of touching the one at databaseUrl.
 */
export async function createMigration(opts: EngineOptions & { name: string }): Promise<{ path: string | null }> {
  const migrationName = slugifyMigrationName(opts.name);
  if (!migrationName) throw new Error(`invalid migration name ${JSON.stringify(opts.name)}: use letters and digits`);
  const { schemaPath, migrationsDir } = resolvePaths(opts);
  const migrationsList = await readMigrationsList(migrationsDir);
  const scratch = await createTemporaryDatabase(opts.databaseUrl);
  const out = await withEngine({ ...opts, databaseUrl: scratch.url }, async (engine) => {
    await engine.applyMigrations({ migrationsList, filters: FILTERS });
    // fills the engine's cache of the history's schema by replaying it on a shadow database
    await engine.devDiagnostic({ migrationsList, filters: FILTERS });
    return engine.createMigration({
      draft: false,
      migrationName,
      migrationsList,
      schema: { files: schemaFiles(schemaPath) },
      filters: FILTERS,
    });
  }).finally(() => scratch.drop());
  if (out.migrationScript === null) return { path: null };
  const file = await writeMigration({
    baseDir: migrationsList.baseDir,
    directoryName: out.generatedMigrationName,
    extension: out.extension,
    script: out.migrationScript,
    provider: out.connectorType,
  });
  return { path: file };
}

export interface MigrationStatus {
  local: string[];
  applied: string[];
  pending: string[];
  failed: string[];
  edited: string[];
  hasMigrationsTable: boolean;
  history: HistoryDiagnostic | null;
  upToDate: boolean;
}

async function appliedMigrationNames(databaseUrl: string): Promise<string[]> {
  return withClient(databaseUrl, async (client) => {
    const table = await client.query<{ t: string | null }>("SELECT to_regclass('_prisma_migrations')::text AS t");
    if (!table.rows[0]?.t) return [];
    const rows = await client.query<{ migration_name: string }>(
      "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY started_at",
    );
    return rows.rows.map((r) => r.migration_name);
  });
}

export async function migrationStatus(opts: EngineOptions): Promise<MigrationStatus> {
  const migrationsList = await readMigrationsList(resolvePaths(opts).migrationsDir);
  const diagnosis = await withEngine(opts, (engine) =>
    engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: FILTERS }),
  );
  const local = migrationNames(migrationsList);
  const applied = await appliedMigrationNames(opts.databaseUrl);
  const pending = local.filter((name) => !applied.includes(name));
  return {
    local,
    applied,
    pending,
    failed: diagnosis.failedMigrationNames,
    edited: diagnosis.editedMigrationNames,
    hasMigrationsTable: diagnosis.hasMigrationsTable,
    history: diagnosis.history,
    upToDate: diagnosis.history === null && diagnosis.failedMigrationNames.length === 0,
  };
}
