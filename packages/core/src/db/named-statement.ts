import { types, type Pool } from "pg";
import { Prisma } from "./prisma";

/**
 * A statement on a hot path, run as a named prepared statement on the pg pool under Prisma (pgPoolOf): Postgres
 * parses and plans it once per connection instead of on every call (pgbench, 10 clients: the submission's INSERT
 * ran about 1.6 times as many a second; BENCHMARKS.md), and its rows skip Prisma's raw-query runtime. The rows
 * come back as Prisma's $queryRaw answers them: bigint as BigInt, numeric as Decimal, timestamps as Date, json parsed.
 * For statements of a fixed shape (values as parameters): each distinct text is one statement on every connection.
 */

/** Prisma's raw-query types where pg's defaults differ (int8 and numeric are strings in pg) */
const PRISMA_TYPES = {
  getTypeParser(oid: number, format?: "text" | "binary"): (value: string) => unknown {
    if (oid === types.builtins.INT8) return (v) => BigInt(v);
    if (oid === types.builtins.NUMERIC) return (v) => new Prisma.Decimal(v);
    return types.getTypeParser(oid, format ?? "text") as (value: string) => unknown;
  },
};

/** beyond this many distinct texts a statement runs unnamed: a caller whose text varies must not fill the connections */
const MAX_NAMED = 64;
const names = new Map<string, string>();
/** bumped when Postgres refuses the prepared statements after a change of a table (see below) */
let generation = 0;

function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `tp_${names.size}`;
    names.set(text, name);
  }
  return name === undefined ? undefined : `${name}_${generation}`;
}

/**
 * A prepared statement whose result columns changed since it was prepared (a migration added a column to a
 * `RETURNING *` table while this process runs) fails with "cached plan must not change result type" before it runs.
 */
function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === "0A000" && typeof e.message === "string" && e.message.includes("cached plan must not change");
}

/** Runs `sql` as a named statement on `pool`; after a stale plan once more under new names (it did not run). */
export async function queryNamed<T>(pool: Pool, sql: Prisma.Sql): Promise<T[]> {
  const run = async () =>
    (await pool.query({ name: nameOf(sql.text), text: sql.text, values: sql.values, types: PRISMA_TYPES })).rows as T[];
  try {
    return await run();
  } catch (err) {
    if (!isStalePlan(err)) throw err;
    generation += 1;
    return run();
  }
}
