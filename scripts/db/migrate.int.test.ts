// Real PostgreSQL, real wasm schema engine: each database here is created for this file and dropped.
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { databaseUrl, quoteIdent, withAdminClient } from "../../test/support/pg-admin";
import { SHADOW_DB_PREFIX } from "./adapter-factory";
import { checkDrift, createMigration, deployMigrations, migrationStatus } from "./migrate";

const repoRoot = path.resolve(__dirname, "../..");
const repoMigrations = path.join(repoRoot, "prisma", "migrations");
const repoMigrationNames = readdirSync(repoMigrations, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

const created: string[] = [];
let tmp: string;
let shadowsBefore: string[];

async function createDatabase(): Promise<string> {
  const name = `tp_t_${process.env.TRAINPOD_TEST_RUN_ID ?? "local"}_mig_${randomBytes(4).toString("hex")}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  created.push(name);
  return databaseUrl(name);
}

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function shadowDatabases(): Promise<string[]> {
  return withAdminClient(async (c) => {
    const r = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [
      SHADOW_DB_PREFIX,
    ]);
    return r.rows.map((row) => row.datname);
  });
}

async function tableNames(url: string): Promise<string[]> {
  const rows = await query<{ table_name: string }>(
    url,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name);
}

const sha256 = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "trainpod-migrate-"));
  shadowsBefore = await shadowDatabases();
});

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await withAdminClient(async (c) => {
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
});

describe("the repo's migrations", () => {
  let url: string;
  beforeAll(async () => {
    url = await createDatabase();
  });

  test("the repo has migrations to test", () => {
    expect(repoMigrationNames.length).toBeGreaterThan(0);
  });

  test("deploy onto a fresh database creates every table and Prisma's _prisma_migrations rows", async () => {
    const logs: string[] = [];
    const { applied } = await deployMigrations({ databaseUrl: url, log: (m) => logs.push(m) });
    expect(applied).toEqual(repoMigrationNames);
    expect(logs.join("\n")).toContain(repoMigrationNames[0]);
    expect(await tableNames(url)).toEqual(
      expect.arrayContaining([
        "User",
        "ApiKey",
        "Dataset",
        "Deployment",
        "DeploymentEvent",
        "DatasetDownloadToken",
        "RunToken",
      ]),
    );
    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
    }>(
      url,
      "SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name",
    );
    expect(rows.map((r) => r.migration_name)).toEqual(repoMigrationNames);
    for (const row of rows) {
      expect(row.checksum).toBe(sha256(path.join(repoMigrations, row.migration_name, "migration.sql")));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
  });

  test("a second deploy applies nothing and status is up to date", async () => {
    expect(await deployMigrations({ databaseUrl: url })).toEqual({ applied: [] });
    const status = await migrationStatus({ databaseUrl: url });
    expect(status).toMatchObject({ applied: repoMigrationNames, pending: [], failed: [], upToDate: true });
  });

  test("the repo's schema does not drift from its migrations", async () => {
    const result = await checkDrift({ databaseUrl: url });
    expect(result.drift).toBe(false);
  });
});

describe("a schema with a new field", () => {
  let url: string;
  let schemaPath: string;
  let migrationsDir: string;

  beforeAll(async () => {
    url = await createDatabase();
    schemaPath = path.join(tmp, "schema.prisma");
    migrationsDir = path.join(tmp, "migrations");
    cpSync(repoMigrations, migrationsDir, { recursive: true });
    const schema = readFileSync(path.join(repoRoot, "prisma", "schema.prisma"), "utf8");
    const changed = schema.replace(/(model User \{\n)/, "$1  nickname    String?\n");
    expect(changed).not.toBe(schema);
    writeFileSync(schemaPath, changed);
    await deployMigrations({ databaseUrl: url, migrationsDir });
  });

  test("checkDrift reports the drift with the missing SQL, leaving the database alone", async () => {
    const tablesBefore = await tableNames(url);
    const result = await checkDrift({ databaseUrl: url, schemaPath, migrationsDir });
    expect(result.drift).toBe(true);
    expect(result.sql).toMatch(/ALTER TABLE "User" ADD COLUMN\s+"nickname" TEXT/);
    expect(await tableNames(url)).toEqual(tablesBefore);
  });

  test("createMigration writes a Prisma migration folder whose SQL then applies", async () => {
    const { path: file } = await createMigration({ databaseUrl: url, name: "Add nickname", schemaPath, migrationsDir });
    expect(file).not.toBeNull();
    const dirName = path.basename(path.dirname(file ?? ""));
    expect(dirName).toMatch(/^\d{14}_add_nickname$/);
    expect(path.dirname(path.dirname(file ?? ""))).toBe(migrationsDir);
    expect(readFileSync(file ?? "", "utf8")).toMatch(/"nickname" TEXT/);
    expect(readFileSync(path.join(migrationsDir, "migration_lock.toml"), "utf8")).toBe(
      "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\n" +
        'provider = "postgresql"\n',
    );

    expect(await deployMigrations({ databaseUrl: url, migrationsDir })).toEqual({ applied: [dirName] });
    const columns = await query<{ column_name: string }>(
      url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'nickname'",
    );
    expect(columns).toHaveLength(1);
    expect((await checkDrift({ databaseUrl: url, schemaPath, migrationsDir })).drift).toBe(false);
    expect(await createMigration({ databaseUrl: url, name: "nothing", schemaPath, migrationsDir })).toEqual({
      path: null,
    });
  });
});

describe("migration scripts", () => {
  let url: string;
  let migrationsDir: string;

  const writeMigrationFile = (name: string, sql: string): void => {
    mkdirSync(path.join(migrationsDir, name), { recursive: true });
    writeFileSync(path.join(migrationsDir, name, "migration.sql"), sql);
  };

  beforeAll(async () => {
    url = await createDatabase();
    migrationsDir = path.join(tmp, "scripts-migrations");
    writeMigrationFile(
      "20240101000000_function",
      "CREATE TABLE t (n INT);\nCREATE FUNCTION f() RETURNS INT LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\n",
    );
    writeMigrationFile("20240102000000_broken", 'CREATE TABLE "half" (n INT);\nSELECT 1 / 0;\n');
  });

  test("run whole and atomically: $$ bodies work, a failing script leaves nothing behind", async () => {
    expect((await migrationStatus({ databaseUrl: url, migrationsDir })).pending).toHaveLength(2);
    await expect(deployMigrations({ databaseUrl: url, migrationsDir })).rejects.toThrow(/division by zero/);
    expect(await query<{ one: number }>(url, "SELECT f() AS one")).toEqual([{ one: 1 }]);
    expect(await tableNames(url)).not.toContain("half");
    const status = await migrationStatus({ databaseUrl: url, migrationsDir });
    expect(status.failed).toEqual(["20240102000000_broken"]);
    expect(status.upToDate).toBe(false);
  });
});

test("no shadow database is left behind", async () => {
  const leftover = (await shadowDatabases()).filter((name) => !shadowsBefore.includes(name));
  expect(leftover).toEqual([]);
});
