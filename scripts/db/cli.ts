// `npm run db:migrate | db:migrate:create -- NAME | db:check | db:status` (see package.json).
import { redact } from "./adapter-factory";
import {
  checkDrift,
  createMigration,
  deployMigrations,
  ensureDatabase,
  migrationStatus,
  type MigrationStatus,
} from "./migrate";

const DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/trainpod";
const USAGE = "usage: tsx scripts/db/cli.ts deploy | create NAME | check | status";

type Command = (databaseUrl: string, args: string[]) => Promise<number>;

async function ensureDatabaseLogged(databaseUrl: string): Promise<void> {
  if (await ensureDatabase({ databaseUrl })) console.log(`Created database ${redact(databaseUrl)}`);
}

const deploy: Command = async (databaseUrl) => {
  await ensureDatabaseLogged(databaseUrl);
  await deployMigrations({ databaseUrl, log: (msg) => console.log(msg) });
  return 0;
};

const create: Command = async (databaseUrl, args) => {
  const name = args.join(" ").trim();
  if (!name) {
    console.error("db create: a migration name is required, e.g. `npm run db:migrate:create -- add_user_name`");
    return 2;
  }
  await ensureDatabaseLogged(databaseUrl);
  const { path } = await createMigration({ databaseUrl, name });
  console.log(path ? `Created ${path}` : "The schema matches the migrations: no migration created.");
  return 0;
};

const check: Command = async (databaseUrl) => {
  const { drift, sql } = await checkDrift({ databaseUrl });
  if (!drift) {
    console.log("no drift: prisma/migrations matches prisma/schema.prisma");
    return 0;
  }
  console.error("Drift: prisma/schema.prisma has changes no migration covers. Missing SQL:\n");
  console.log(sql);
  console.error("Run `npm run db:migrate:create -- <name>` to add a migration.");
  return 1;
};

function printStatus(s: MigrationStatus): void {
  console.log(`${s.local.length} migration(s) in prisma/migrations, ${s.applied.length} applied`);
  for (const name of s.local) console.log(`  ${s.applied.includes(name) ? "applied" : "pending"}  ${name}`);
  for (const name of s.applied.filter((n) => !s.local.includes(n))) console.log(`  not in folder  ${name}`);
  for (const name of s.failed) console.log(`  FAILED   ${name}`);
  for (const name of s.edited) console.log(`  EDITED after applying  ${name}`);
  if (s.history?.diagnostic === "historiesDiverge") console.log("  the database's history diverges from the folder");
  console.log(s.upToDate ? "Database schema is up to date." : "Database is not up to date: run `npm run db:migrate`.");
}

const status: Command = async (databaseUrl) => {
  const s = await migrationStatus({ databaseUrl });
  printStatus(s);
  return s.upToDate ? 0 : 1;
};

const COMMANDS: Record<string, Command> = { deploy, create, check, status };

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(USAGE);
    return 2;
  }
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_URL;
  try {
    return await command(databaseUrl, args);
  } catch (e) {
    const message = describe(e);
    console.error(`db ${name} failed (${redact(databaseUrl)}):\n${message}`);
    if (/Database `.*` does not exist/.test(message)) console.error("Create it with `npm run db:migrate`.");
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
