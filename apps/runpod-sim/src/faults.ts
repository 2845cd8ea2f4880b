/**
 * Fault injection for /v2 requests (never /admin): with the configured rates, a request is
 * dropped (socket destroyed, no answer), refused with 429 + Retry-After, or answered 500/502/503;
 * independently it may be delayed by slowMs first. Two more act inside handlers: omitFromList
 * (each live pod left out of one GET /v2/pods answer) and createThenFail (a create succeeds but
 * answers 500). Draws come from a seeded RNG (SIM_SEED), so the same requests in the same order
 * meet the same faults.
 */
import type { FaultConfig } from "./config";

export type FaultKind = "rateLimit" | "serverError" | "slow" | "drop" | "omitFromList" | "createThenFail";

export interface FaultDecision {
  delayMs: number;
  /** what replaces the real answer, if anything */
  outcome:
    | { kind: "drop" }
    | { kind: "rateLimit"; retryAfterSeconds: number }
    | { kind: "serverError"; status: 500 | 502 | 503 }
    | null;
}

/** mulberry32: a small, fast, seedable PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private random: () => number;
  readonly injected: Record<FaultKind, number> = {
    rateLimit: 0,
    serverError: 0,
    slow: 0,
    drop: 0,
    omitFromList: 0,
    createThenFail: 0,
  };

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  reset(seed: number): void {
    this.random = seededRandom(seed);
    for (const kind of Object.keys(this.injected) as FaultKind[]) this.injected[kind] = 0;
  }

  decide(config: FaultConfig, method: string, route: string): FaultDecision {
    const none: FaultDecision = { delayMs: 0, outcome: null };
    if (config.methods.length > 0 && !config.methods.includes(method.toUpperCase())) return none;
    if (config.routes.length > 0 && !config.routes.includes(route)) return none;
    const decision: FaultDecision = { delayMs: 0, outcome: null };
    if (config.slow > 0 && this.random() < config.slow) {
      decision.delayMs = config.slowMs;
      this.injected.slow += 1;
    }
    // one draw for the exclusive outcomes, so their rates add up (capped at 1)
    const u = this.random();
    const dropEdge = config.drop;
    const rateLimitEdge = dropEdge + config.rateLimit;
    if (u < dropEdge) decision.outcome = { kind: "drop" };
    else if (u < rateLimitEdge) decision.outcome = { kind: "rateLimit", retryAfterSeconds: config.retryAfterSeconds };
    else if (u < rateLimitEdge + config.serverError) {
      const statuses = [500, 502, 503] as const;
      decision.outcome = { kind: "serverError", status: statuses[Math.floor(this.random() * 3)] ?? 500 };
    }
    if (decision.outcome !== null) this.injected[decision.outcome.kind] += 1;
    return decision;
  }

  /** One draw for a handler-level fault (omitFromList, createThenFail); counts it when it hits. */
  chance(kind: "omitFromList" | "createThenFail", rate: number): boolean {
    if (rate <= 0) return false;
    const hit = this.random() < rate;
    if (hit) this.injected[kind] += 1;
    return hit;
  }
}
