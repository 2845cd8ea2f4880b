/** The sim's configuration: parsed from SIM_* env vars, and patched at runtime by PATCH /admin/config. */

export type RestartPolicy = "always" | "never";

export interface FaultConfig {
  /** each 0..1: the chance a /v1 request meets that fault */
  rateLimit: number;
  serverError: number;
  slow: number;
  drop: number;
  /** how long a `slow` answer is delayed */
  slowMs: number;
  /** Retry-After (seconds) sent with an injected 429 */
  retryAfterSeconds: number;
  /** restrict faults to these methods (e.g. ["POST"]); empty = all */
  methods: string[];
  /** restrict faults to these route templates (e.g. ["/pods", "/pods/{podId}"]); empty = all */
  routes: string[];
}

/** GPUs free per GPU type: `perType` wins over `default`; undefined = unlimited. */
export interface CapacityConfig {
  default?: number;
  perType: Record<string, number>;
}

export interface SimConfig {
  host: string;
  port: number;
  /** the accepted API key; undefined = any non-empty key */
  apiKey?: string;
  bootDelayMs: number;
  restartPolicy: RestartPolicy;
  restartDelayMs: number;
  /** SIGTERM → SIGKILL grace when a container is killed */
  killGraceMs: number;
  /** where pod folders live; undefined = a fresh temp dir */
  dataDir?: string;
  capacity: CapacityConfig;
  faults: FaultConfig;
  seed: number;
  /** bytes of each pod's log tail kept in memory */
  logTailBytes: number;
}

export const defaultFaults = (): FaultConfig => ({
  rateLimit: 0,
  serverError: 0,
  slow: 0,
  drop: 0,
  slowMs: 2000,
  retryAfterSeconds: 1,
  methods: [],
  routes: [],
});

export function defaultConfig(overrides: Partial<SimConfig> = {}): SimConfig {
  return {
    host: "127.0.0.1",
    port: 8765,
    bootDelayMs: 2000,
    restartPolicy: "always",
    restartDelayMs: 1000,
    killGraceMs: 3000,
    capacity: { perType: {} },
    faults: defaultFaults(),
    seed: Date.now() % 2 ** 31,
    logTailBytes: 64 * 1024,
    ...overrides,
  };
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function json(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ConfigError(`${name} must be JSON, got "${raw}"`);
  }
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Applies a capacity patch: a number sets the default for every type (and clears per-type
 * values); an object sets per-type values, `"*"` the default, and null removes a limit.
 */
export function applyCapacity(current: CapacityConfig, patch: unknown): CapacityConfig {
  if (typeof patch === "number") {
    if (!Number.isInteger(patch) || patch < 0) throw new ConfigError("capacity must be a non-negative integer");
    return { default: patch, perType: {} };
  }
  if (!isRecord(patch)) throw new ConfigError("capacity must be a number or an object of GPU type id to number");
  const next: CapacityConfig = { default: current.default, perType: { ...current.perType } };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== null && (typeof value !== "number" || !Number.isInteger(value) || value < 0)) {
      throw new ConfigError(`capacity.${key} must be a non-negative integer or null`);
    }
    if (key === "*") next.default = value ?? undefined;
    else if (value === null) delete next.perType[key];
    else next.perType[key] = value;
  }
  return next;
}

const RATE_KEYS = ["rateLimit", "serverError", "slow", "drop"] as const;

/** Merges a partial fault config (from SIM_FAULTS or PATCH /admin/config) into the current one. */
export function applyFaults(current: FaultConfig, patch: unknown): FaultConfig {
  if (!isRecord(patch)) throw new ConfigError("faults must be an object");
  const next: FaultConfig = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if ((RATE_KEYS as readonly string[]).includes(key)) {
      if (typeof value !== "number" || value < 0 || value > 1) throw new ConfigError(`faults.${key} must be a number in 0..1`);
      next[key as (typeof RATE_KEYS)[number]] = value;
    } else if (key === "slowMs" || key === "retryAfterSeconds") {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new ConfigError(`faults.${key} must be a non-negative integer`);
      next[key] = value;
    } else if (key === "methods" || key === "routes") {
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new ConfigError(`faults.${key} must be an array of strings`);
      next[key] = key === "methods" ? value.map((m: string) => m.toUpperCase()) : [...(value as string[])];
    } else {
      throw new ConfigError(`unknown fault setting "${key}"`);
    }
  }
  return next;
}

/** Reads SIM_* env vars (see README.md) into a SimConfig. Throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SimConfig {
  const base = defaultConfig();
  const policy = env.SIM_RESTART_POLICY ?? "always";
  if (policy !== "always" && policy !== "never") throw new ConfigError(`SIM_RESTART_POLICY must be always or never, got "${policy}"`);
  const apiKey = env.SIM_API_KEY?.trim();
  const dataDir = env.SIM_DATA_DIR?.trim();
  const capacity = env.SIM_CAPACITY?.trim();
  const faults = env.SIM_FAULTS?.trim();
  return {
    ...base,
    host: env.SIM_HOST?.trim() || base.host,
    port: int(env, "SIM_PORT", base.port),
    apiKey: apiKey === "" ? undefined : apiKey,
    bootDelayMs: int(env, "SIM_BOOT_DELAY_MS", base.bootDelayMs),
    restartPolicy: policy,
    restartDelayMs: int(env, "SIM_RESTART_DELAY_MS", base.restartDelayMs),
    killGraceMs: int(env, "SIM_KILL_GRACE_MS", base.killGraceMs),
    dataDir: dataDir === "" ? undefined : dataDir,
    capacity: capacity ? applyCapacity(base.capacity, json("SIM_CAPACITY", capacity)) : base.capacity,
    faults: faults ? applyFaults(base.faults, json("SIM_FAULTS", faults)) : base.faults,
    seed: int(env, "SIM_SEED", base.seed),
    logTailBytes: int(env, "SIM_LOG_TAIL_BYTES", base.logTailBytes),
  };
}
