import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelayMs } from "../runpod/backoff";
import { pingDatabase, type PrismaClient } from "./prisma";

export interface WaitForDatabaseOptions {
  /** give up after this long (default 60 s) */
  totalMs?: number;
  /** each ping must answer within this (default 5 s) */
  tryMs?: number;
  /** told about each failed ping before the next (for a log line) */
  onRetry?: (err: Error, attempt: number) => void;
  now?: () => number;
}

/**
 * Pings Postgres until it answers, with backoff between tries (a process that starts next to its
 * database, or on a loaded machine, waits instead of exiting on the first slow answer). Throws the
 * last error after `totalMs`.
 */
export async function waitForDatabase(prisma: PrismaClient, options: WaitForDatabaseOptions = {}): Promise<void> {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.totalMs ?? 60_000);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await pingDatabase(prisma, options.tryMs ?? 5_000);
      return;
    } catch (err) {
      const delay = backoffDelayMs(attempt, { baseDelayMs: 500, maxDelayMs: 5_000 });
      if (now() + delay >= deadline) throw err;
      options.onRetry?.(err as Error, attempt);
      await sleep(delay);
    }
  }
}
