/** Validating setters for the sim's config: shared by SIM_* env parsing and PATCH /admin/config. */
import type { AvailabilityLevel, CapacityConfig, FaultConfig, QuotaConfig, SimConfig } from "./config";

export class ConfigError extends Error {}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function json(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ConfigError(`${name} must be JSON, got "${raw}"`);
  }
}

export function nonNegativeInt(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new ConfigError(`${name} must be a non-negative integer`);
  return value;
}

export function optionalNumber(name: string, value: unknown): number | undefined {
  if (value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new ConfigError(`${name} must be a number (or null for unlimited)`);
  return value;
}

export function applyStringList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string"))
    throw new ConfigError(`${name} must be an array of strings`);
  return [...(value as string[])];
}

/**
 * Applies a capacity patch: a number sets the default for every type (and clears per-type
 * values); an object sets per-type values, `"*"` the default, and null removes a limit.
 */
export function applyCapacity(current: CapacityConfig, patch: unknown): CapacityConfig {
  if (typeof patch === "number") return { default: nonNegativeInt(patch, "capacity"), perType: {} };
  if (!isRecord(patch)) throw new ConfigError("capacity must be a number or an object of GPU type id to number");
  const next: CapacityConfig = { default: current.default, perType: { ...current.perType } };
  for (const [key, value] of Object.entries(patch)) {
    const n = value === null ? null : nonNegativeInt(value, `capacity.${key}`);
    if (key === "*") next.default = n ?? undefined;
    else if (n === null) delete next.perType[key];
    else next.perType[key] = n;
  }
  return next;
}

const RATE_KEYS = ["rateLimit", "serverError", "slow", "drop", "omitFromList", "createThenFail"] as const;

/** Merges a partial fault config (from SIM_FAULTS or PATCH /admin/config) into the current one. */
export function applyFaults(current: FaultConfig, patch: unknown): FaultConfig {
  if (!isRecord(patch)) throw new ConfigError("faults must be an object");
  const next: FaultConfig = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if ((RATE_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== "number" || value < 0 || value > 1)
        throw new ConfigError(`faults.${key} must be a number in 0..1`);
      next[key as (typeof RATE_KEYS)[number]] = value;
    } else if (key === "slowMs" || key === "retryAfterSeconds") {
      next[key] = nonNegativeInt(value, `faults.${key}`);
    } else if (key === "methods" || key === "routes") {
      const list = applyStringList(`faults.${key}`, value);
      next[key] = key === "methods" ? list.map((m) => m.toUpperCase()) : list;
    } else {
      throw new ConfigError(`unknown fault setting "${key}"`);
    }
  }
  return next;
}

/** Merges `{minute?, hour?, day?}` (positive integers) into the quota. */
export function applyQuota(current: QuotaConfig, patch: unknown): QuotaConfig {
  if (!isRecord(patch)) throw new ConfigError("quota must be an object {minute?, hour?, day?}");
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (key !== "minute" && key !== "hour" && key !== "day") throw new ConfigError(`unknown quota window "${key}"`);
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
      throw new ConfigError(`quota.${key} must be a positive integer`);
    next[key] = value;
  }
  return next;
}

const LEVELS: readonly AvailabilityLevel[] = ["NONE", "LOW", "MEDIUM", "HIGH"];

/** Merges `{gpuTypeId: "NONE"|"LOW"|"MEDIUM"|"HIGH"|null}` (null unpins) into the pinned catalog levels. */
export function applyAvailability(
  current: Record<string, AvailabilityLevel>,
  patch: unknown,
): Record<string, AvailabilityLevel> {
  if (!isRecord(patch))
    throw new ConfigError("catalogAvailability must be an object of GPU type id to NONE|LOW|MEDIUM|HIGH");
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else if (typeof value === "string" && (LEVELS as readonly string[]).includes(value))
      next[key] = value as AvailabilityLevel;
    else throw new ConfigError(`catalogAvailability.${key} must be one of ${LEVELS.join(", ")} or null`);
  }
  return next;
}

const MS_KEYS = ["bootDelayMs", "restartDelayMs", "killGraceMs", "billingLagMs"] as const;

/** Applies a PATCH /admin/config body to the config; throws ConfigError on a bad value. */
export function patchConfig(current: SimConfig, patch: unknown): SimConfig {
  if (!isRecord(patch)) throw new ConfigError("body must be a JSON object");
  const next: SimConfig = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if ((MS_KEYS as readonly string[]).includes(key))
      next[key as (typeof MS_KEYS)[number]] = nonNegativeInt(value, key);
    else if (key === "restartPolicy") {
      if (value !== "always" && value !== "never") throw new ConfigError("restartPolicy must be always or never");
      next.restartPolicy = value;
    } else if (key === "capacity") next.capacity = applyCapacity(next.capacity, value);
    else if (key === "faults") next.faults = applyFaults(next.faults, value);
    else if (key === "quota") next.quota = applyQuota(next.quota, value);
    else if (key === "catalogAvailability")
      next.catalogAvailability = applyAvailability(next.catalogAvailability, value);
    else if (key === "unpullableImagePrefixes" || key === "forbiddenGpuTypes") next[key] = applyStringList(key, value);
    else if (key === "balanceUsd") next.balanceUsd = optionalNumber(key, value);
    else if (key === "seed") {
      if (typeof value !== "number" || !Number.isInteger(value)) throw new ConfigError("seed must be an integer");
      next.seed = value;
    } else throw new ConfigError(`unknown setting "${key}"`);
  }
  return next;
}
