import type { Config } from "../config";
import { CachedHub, type Hub } from "./hub-cache";
import { DEFAULT_HF_ENDPOINT, HubClient } from "./hub-client";

/**
 * The hub the API asks, or null when the model pre-flight is off: HUB_PREFLIGHT=false, or on the simulator without
 * an HF_ENDPOINT (its pods never download a model, and tests must not reach the internet). With a RunPod key and no
 * HF_ENDPOINT it is the public hub.
 */
export function hubEndpointFor(config: Pick<Config, "env" | "runpod">): string | null {
  if (!config.env.HUB_PREFLIGHT) return null;
  if (config.env.HF_ENDPOINT !== undefined) return config.env.HF_ENDPOINT;
  return config.runpod.simulated ? null : DEFAULT_HF_ENDPOINT;
}

/** The API process's one hub client, cached (HUB_* settings); null when the pre-flight is off. */
export function hubForConfig(config: Pick<Config, "env" | "runpod">, fetchImpl?: typeof fetch): Hub | null {
  const endpoint = hubEndpointFor(config);
  if (endpoint === null) return null;
  const env = config.env;
  const client = new HubClient({
    endpoint,
    timeoutMs: env.HUB_TIMEOUT_MS,
    maxFileBytes: env.HUB_FILE_MAX_BYTES,
    fetch: fetchImpl,
  });
  return new CachedHub(client, {
    ttlMs: env.HUB_CACHE_TTL_SECONDS * 1000,
    maxEntries: 10_000,
    maxBytes: env.HUB_CACHE_MAX_BYTES,
  });
}
