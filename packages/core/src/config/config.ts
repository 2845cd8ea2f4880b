import { AppError } from "../errors";
import { envSchema, type Env } from "./schema";
import { RUNPOD_API_V2_URL } from "../runpod/api-url";
import { secretsKeyring } from "../secrets/keyring";

export interface RunPodTarget {
  /** true when no RUNPOD_API_KEY is set: trainpod talks to the local simulator */
  simulated: boolean;
  /**
   * pods run on this machine: the simulator, or any RunPod-compatible API on a loopback address
   * (e.g. the simulator with SIM_API_KEY set); their callbacks may then go to localhost
   */
  local: boolean;
  apiUrl: string;
  apiKey: string;
}

export interface Config {
  env: Env;
  isProduction: boolean;
  logFormat: "json" | "pretty";
  runpod: RunPodTarget;
  /** where RunPod's machines reach the API; every URL handed to a pod starts with it */
  publicUrl: string;
}

/** Key used against the simulator, which accepts any non-empty key unless told otherwise. */
export const SIMULATOR_API_KEY = "sim-local-key";

/** Parses the environment. Throws one CONFIG_INVALID error listing every problem. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new AppError("CONFIG_INVALID", `invalid configuration:\n  - ${problems.join("\n  - ")}`, {
      details: { problems },
    });
  }
  const env = parsed.data;
  if (env.STORAGE === "s3" && env.S3_BUCKET === undefined) {
    const problems = ["S3_BUCKET: required when STORAGE=s3"];
    throw new AppError("CONFIG_INVALID", `invalid configuration:\n  - ${problems.join("\n  - ")}`, {
      details: { problems },
    });
  }
  const simulated = env.RUNPOD_API_KEY === undefined;
  const apiUrl =
    env.RUNPOD_API_URL ??
    (simulated ? (env.RUNPOD_SIM_URL ?? `http://127.0.0.1:${env.SIM_PORT}/v2`) : RUNPOD_API_V2_URL);
  const config: Config = {
    env,
    isProduction: env.NODE_ENV === "production",
    logFormat: env.LOG_FORMAT ?? (env.NODE_ENV === "production" ? "json" : "pretty"),
    runpod: {
      simulated,
      local: simulated || isLoopbackUrl(apiUrl),
      apiUrl,
      apiKey: env.RUNPOD_API_KEY ?? SIMULATOR_API_KEY,
    },
    publicUrl: (env.PUBLIC_URL ?? `http://${env.API_HOST}:${env.API_PORT}`).replace(/\/+$/, ""),
  };
  secretsKeyring(config); // a malformed SECRETS_KEY / SECRETS_KEYS stops the process here (CONFIG_INVALID)
  return config;
}

/** A URL on this machine (localhost, 127.x, ::1). */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** For entry points: parse or print every problem and exit(1). */
export function loadConfigOrExit(source: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(source);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
