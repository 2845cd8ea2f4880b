/** The sim's configuration: parsed from SIM_* env vars, and patched at runtime by PATCH /admin/config. */
import {
  ConfigError,
  applyCapacity,
  applyFaults,
  applyQuota,
  applyStringList,
  applyAvailability,
  json,
  nonNegativeInt,
  optionalNumber,
} from "./config-apply";

export { ConfigError, isRecord, applyCapacity, applyFaults } from "./config-apply";

export type RestartPolicy = "always" | "never";
/** the pods' ML work: `simulated` (TRAINPOD_ML=simulated in each pod's env: the real agent, the ML simulated) or `real` */
export type SimMl = "simulated" | "real";
export type AvailabilityLevel = "NONE" | "LOW" | "MEDIUM" | "HIGH";

export interface FaultConfig {
  /** each 0..1: the chance a /v2 request meets that fault */
  rateLimit: number;
  serverError: number;
  slow: number;
  drop: number;
  /** 0..1: each live pod is independently left out of one GET /v2/pods answer */
  omitFromList: number;
  /** 0..1: a successful POST /v2/pods creates the pod but answers 500 */
  createThenFail: number;
  /** how long a `slow` answer is delayed */
  slowMs: number;
  /** Retry-After (seconds) sent with an injected 429 */
  retryAfterSeconds: number;
  /** restrict rateLimit/serverError/slow/drop to these methods (e.g. ["POST"]); empty = all */
  methods: string[];
  /** restrict them to these route templates (e.g. ["/v2/pods", "/v2/pods/{id}"]); empty = all */
  routes: string[];
}

/** GPUs free per GPU type: `perType` wins over `default`; undefined = unlimited. */
export interface CapacityConfig {
  default?: number;
  perType: Record<string, number>;
}

/** Requests per fixed window for the one account (the SIM_API_KEY holder and its pod keys). */
export interface QuotaConfig {
  minute: number;
  hour: number;
  day: number;
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
  /** folders put first on every pod's PATH, before the stand-ins (e.g. a real python's bin); undefined = none */
  podPathPrepend?: string;
  /** `simulated` sets TRAINPOD_ML=simulated in every pod's env (a pod's own env may override it); `real` does not */
  ml: SimMl;
  capacity: CapacityConfig;
  faults: FaultConfig;
  seed: number;
  /** bytes of each pod's log lines kept in memory (for SSE backfill and /admin) */
  logTailBytes: number;
  quota: QuotaConfig;
  /** what the catalog reports for a GPU type regardless of real capacity (RunPod's catalog is stale) */
  catalogAvailability: Record<string, AvailabilityLevel>;
  /** images whose reference starts with one of these never pull: the pod goes ERROR */
  unpullableImagePrefixes: string[];
  /** account balance in USD; undefined = unlimited; <= 0 = every create answers 402 */
  balanceUsd?: number;
  /** GPU type ids this account may not rent (create answers 403) */
  forbiddenGpuTypes: string[];
  /** usage within the last billingLagMs is not in GET /v2/billing/pods yet */
  billingLagMs: number;
}

export const defaultFaults = (): FaultConfig => ({
  rateLimit: 0,
  serverError: 0,
  slow: 0,
  drop: 0,
  omitFromList: 0,
  createThenFail: 0,
  slowMs: 2000,
  retryAfterSeconds: 1,
  methods: [],
  routes: [],
});

export const defaultQuota = (): QuotaConfig => ({ minute: 6000, hour: 300_000, day: 5_000_000 });

export function defaultConfig(overrides: Partial<SimConfig> = {}): SimConfig {
  return {
    host: "127.0.0.1",
    port: 8765,
    bootDelayMs: 2000,
    restartPolicy: "always",
    restartDelayMs: 1000,
    killGraceMs: 3000,
    ml: "simulated",
    capacity: { perType: {} },
    faults: defaultFaults(),
    seed: Date.now() % 2 ** 31,
    logTailBytes: 256 * 1024,
    quota: defaultQuota(),
    catalogAvailability: {},
    unpullableImagePrefixes: ["sim/unpullable"],
    forbiddenGpuTypes: [],
    billingLagMs: 0,
    ...overrides,
  };
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  return nonNegativeInt(Number(raw), `${name} (got "${raw}")`);
}

/** Reads SIM_* env vars (see README.md) into a SimConfig. Throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SimConfig {
  const base = defaultConfig();
  const policy = env.SIM_RESTART_POLICY ?? "always";
  if (policy !== "always" && policy !== "never")
    throw new ConfigError(`SIM_RESTART_POLICY must be always or never, got "${policy}"`);
  const ml = env.SIM_ML?.trim() || base.ml;
  if (ml !== "simulated" && ml !== "real") throw new ConfigError(`SIM_ML must be simulated or real, got "${ml}"`);
  const text = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const capacity = text("SIM_CAPACITY");
  const faults = text("SIM_FAULTS");
  const quota = text("SIM_QUOTA");
  const availability = text("SIM_CATALOG_AVAILABILITY");
  const unpullable = text("SIM_UNPULLABLE_IMAGE_PREFIXES");
  const forbidden = text("SIM_FORBIDDEN_GPU_TYPES");
  const balance = text("SIM_BALANCE_USD");
  return {
    ...base,
    host: text("SIM_HOST") ?? base.host,
    port: int(env, "SIM_PORT", base.port),
    apiKey: text("SIM_API_KEY"),
    bootDelayMs: int(env, "SIM_BOOT_DELAY_MS", base.bootDelayMs),
    restartPolicy: policy,
    restartDelayMs: int(env, "SIM_RESTART_DELAY_MS", base.restartDelayMs),
    killGraceMs: int(env, "SIM_KILL_GRACE_MS", base.killGraceMs),
    dataDir: text("SIM_DATA_DIR"),
    podPathPrepend: text("SIM_POD_PATH_PREPEND"),
    ml,
    capacity: capacity ? applyCapacity(base.capacity, json("SIM_CAPACITY", capacity)) : base.capacity,
    faults: faults ? applyFaults(base.faults, json("SIM_FAULTS", faults)) : base.faults,
    seed: int(env, "SIM_SEED", base.seed),
    logTailBytes: int(env, "SIM_LOG_TAIL_BYTES", base.logTailBytes),
    quota: quota ? applyQuota(base.quota, json("SIM_QUOTA", quota)) : base.quota,
    catalogAvailability: availability
      ? applyAvailability({}, json("SIM_CATALOG_AVAILABILITY", availability))
      : base.catalogAvailability,
    unpullableImagePrefixes: unpullable
      ? applyStringList("SIM_UNPULLABLE_IMAGE_PREFIXES", json("SIM_UNPULLABLE_IMAGE_PREFIXES", unpullable))
      : base.unpullableImagePrefixes,
    forbiddenGpuTypes: forbidden
      ? applyStringList("SIM_FORBIDDEN_GPU_TYPES", json("SIM_FORBIDDEN_GPU_TYPES", forbidden))
      : base.forbiddenGpuTypes,
    balanceUsd: balance === undefined ? undefined : optionalNumber("SIM_BALANCE_USD", Number(balance)),
    billingLagMs: int(env, "SIM_BILLING_LAG_MS", base.billingLagMs),
  };
}
