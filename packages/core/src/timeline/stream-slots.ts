import { AppError } from "../errors";

export interface StreamLimits {
  /** open timeline streams one user may hold in this process */
  perUser: number;
  /** open timeline streams in this process, all users together */
  total: number;
  /** what a refusal tells the caller to wait before trying again (Retry-After); default 5 s */
  retryAfterSeconds?: number;
}

/**
 * Counts the open timeline streams of one API process. Each stream polls the database, so an
 * unbounded number of them would be an unbounded load: past a limit, a new stream is refused with
 * RATE_LIMITED (429) and the caller retries (an EventSource does so by itself) after retryAfterSeconds,
 * which the API sends as Retry-After.
 */
export class StreamSlots {
  private open = 0;
  private readonly byUser = new Map<string, number>();

  constructor(private readonly limits: StreamLimits) {}

  /** seconds a refused caller should wait: a slot frees when a stream ends, which nothing here can foresee */
  get retryAfterSeconds(): number {
    return this.limits.retryAfterSeconds ?? 5;
  }

  get size(): number {
    return this.open;
  }

  /** Takes a slot for the user or throws; the returned function gives it back (calling it twice is harmless). */
  acquire(userId: string): () => void {
    const mine = this.byUser.get(userId) ?? 0;
    if (mine >= this.limits.perUser) {
      throw new AppError("RATE_LIMITED", `at most ${this.limits.perUser} open event streams per user`, {
        retryable: true,
        details: { limit: this.limits.perUser, scope: "user" },
      });
    }
    if (this.open >= this.limits.total) {
      throw new AppError("RATE_LIMITED", "too many open event streams on this server, try again shortly", {
        retryable: true,
        details: { limit: this.limits.total, scope: "server" },
      });
    }
    this.open += 1;
    this.byUser.set(userId, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      const left = (this.byUser.get(userId) ?? 1) - 1;
      if (left === 0) this.byUser.delete(userId);
      else this.byUser.set(userId, left);
    };
  }
}
