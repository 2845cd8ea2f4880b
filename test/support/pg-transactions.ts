import { Client } from "pg";

export interface PgTransactionCounter {
  /** transactions begun since start: a statement outside BEGIN … COMMIT is one, a BEGIN … COMMIT/ROLLBACK is one */
  count(): number;
  /** puts pg's query back */
  stop(): void;
}

/**
 * Counts the Postgres transactions every pg client of this process begins (Prisma's adapter and plain pg pools
 * alike), on the client side: exact and at once, unlike pg_stat_database, whose counters a busy backend flushes up
 * to 10 s late (PGSTAT_IDLE_INTERVAL), into whatever is measured next.
 */
export function countPgTransactions(): PgTransactionCounter {
  const original = Client.prototype.query;
  const open = new WeakSet<object>();
  let count = 0;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const first = args[0];
    const text = (typeof first === "string" ? first : ((first as { text?: string } | null)?.text ?? "")).trimStart();
    if (/^BEGIN\b/i.test(text)) {
      count += 1;
      open.add(this);
    } else if (/^(COMMIT|ROLLBACK)\b/i.test(text)) open.delete(this);
    else if (!open.has(this)) count += 1;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return {
    count: () => count,
    stop: () => {
      Client.prototype.query = original;
    },
  };
}

/** Counts the statements every pg client of this process sends whose text matches `pattern` (they still run). */
export function countPgStatements(pattern: RegExp): PgTransactionCounter {
  const original = Client.prototype.query;
  let count = 0;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | null)?.text ?? "");
    if (pattern.test(text)) count += 1;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return {
    count: () => count,
    stop: () => {
      Client.prototype.query = original;
    },
  };
}
