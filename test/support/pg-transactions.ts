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
  const open = new WeakSet<object>();
  let count = 0;
  const stop = watchQueries((client, sent) => {
    const text = sent.trimStart();
    if (/^BEGIN\b/i.test(text)) {
      count += 1;
      open.add(client);
    } else if (/^(COMMIT|ROLLBACK)\b/i.test(text)) open.delete(client);
    else if (!open.has(client)) count += 1;
  });
  return { count: () => count, stop };
}

/** Counts the statements every pg client of this process sends whose text matches `pattern` (they still run). */
export function countPgStatements(pattern: RegExp): PgTransactionCounter {
  let count = 0;
  const stop = watchQueries((_client, text) => {
    if (pattern.test(text)) count += 1;
  });
  return { count: () => count, stop };
}

/** Shows `see` each query's text, on every pg client of this process, before it runs; answers how to stop. */
function watchQueries(see: (client: Client, text: string) => void): () => void {
  const original = Client.prototype.query;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const first = args[0];
    see(this, typeof first === "string" ? first : ((first as { text?: string } | null)?.text ?? ""));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return () => {
    Client.prototype.query = original;
  };
}
