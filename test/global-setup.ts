import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { deployMigrations } from "../scripts/db/migrate";
import { databaseUrl, quoteIdent, withAdminClient } from "./support/pg-admin";
import { startSharedS3Server } from "./support/s3-server";
import { ensureTrainerVenv, TRAINER_VENV_NOTE_ENV } from "./support/trainer-venv";

const root = path.resolve(__dirname, "..");

/** A hash of the migrations, so the template database is rebuilt only when they change. */
function migrationsHash(): string {
  const dir = path.join(root, "prisma", "migrations");
  const hash = createHash("sha256");
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir).sort()) {
      const file = path.join(dir, entry, "migration.sql");
      if (existsSync(file)) hash.update(entry).update(readFileSync(file));
    }
  }
  return hash.digest("hex").slice(0, 12);
}

/**
 * Builds (once per migrations version) a migrated template database; every test file clones it
 * with CREATE DATABASE ... TEMPLATE, which takes a fraction of a second.
 */
export default async function globalSetup(): Promise<void> {
  await Promise.all([databaseAndS3(), trainerVenv()]);
}

/** The trainer venv, built on first use (test/support/trainer-venv.ts); why not, in the run's last lines. */
async function trainerVenv(): Promise<void> {
  const note = await ensureTrainerVenv();
  if (note) process.env[TRAINER_VENV_NOTE_ENV] = note;
}

async function databaseAndS3(): Promise<void> {
  // the S3 test server (LocalStack, about 2 s to start) boots while the template database is checked or built;
  // its failure fails the run (awaited below), and a server left by a failing setup dies with this process
  const s3Started = startSharedS3Server();
  s3Started.catch(() => undefined);
  const template = `tp_template_${migrationsHash()}`;
  const runId = randomBytes(4).toString("hex");
  process.env.TRAINPOD_TEST_TEMPLATE_DB = template;
  process.env.TRAINPOD_TEST_RUN_ID = runId;
  const exists = await withAdminClient(async (c) => {
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
    return r.rowCount === 1;
  });
  if (exists) return s3Started;
  const building = `${template}_building_${runId}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(building)}`));
  await deployMigrations({ databaseUrl: databaseUrl(building) });
  await withAdminClient(async (c) => {
    await c.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`);
  });
  await s3Started;
}
