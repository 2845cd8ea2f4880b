/** How many faults of each kind the simulator says it injected (from GET /admin/stats). */
export interface FaultCounts {
  rateLimit: number;
  serverError: number;
  drop: number;
}

/** Reads `faults: { rateLimit, serverError, drop }` counters from the sim's stats answer. */
export function faultCounts(stats: unknown): FaultCounts {
  const faults = field(stats, "faults");
  return { rateLimit: count(faults, "rateLimit"), serverError: count(faults, "serverError"), drop: count(faults, "drop") };
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function count(faults: unknown, key: string): number {
  const value = field(faults, key);
  if (typeof value !== "number") throw new Error(`sim stats have no numeric faults.${key}: ${JSON.stringify(faults)}`);
  return value;
}
