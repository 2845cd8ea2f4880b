/**
 * Readers of the simulator's GET /admin/stats answer (`faults`, `creates`, `calls`), each throwing
 * when the field is missing or not a number, so a renamed stats field fails loudly.
 */

export type FaultKind = "rateLimit" | "serverError" | "slow" | "drop" | "omitFromList" | "createThenFail";

/** How many faults of `kind` the sim says it injected. */
export function faultCount(stats: unknown, kind: FaultKind): number {
  return count(field(stats, "faults"), kind, `faults.${kind}`);
}

/** POST /v2/pods answers for one GPU type by status (`creates[gpuTypeId][status]`), 0 when none. */
export function createCount(stats: unknown, gpuTypeId: string, status: number): number {
  const creates = field(stats, "creates");
  if (typeof creates !== "object" || creates === null)
    throw new Error(`sim stats have no creates object: ${JSON.stringify(stats)}`);
  const byStatus = field(creates, gpuTypeId);
  return byStatus === undefined ? 0 : count(byStatus, String(status), `creates.${gpuTypeId}.${status}`);
}

/** Calls counted under `"METHOD /v2/template STATUS"`, 0 when none. */
export function callCount(stats: unknown, key: string): number {
  const calls = field(stats, "calls");
  if (typeof calls !== "object" || calls === null)
    throw new Error(`sim stats have no calls object: ${JSON.stringify(stats)}`);
  return field(calls, key) === undefined ? 0 : count(calls, key, `calls["${key}"]`);
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function count(holder: unknown, key: string, what: string): number {
  const value = field(holder, key);
  if (typeof value !== "number") throw new Error(`sim stats have no numeric ${what}: ${JSON.stringify(holder)}`);
  return value;
}
