import { createHmac } from "node:crypto";
import type { Config } from "../config";
import { AppError } from "../errors";

/** AES-256 keys are 32 bytes. */
export const SECRETS_KEY_BYTES = 32;

/**
 * The keys users' secrets are encrypted under. `current` encrypts (absent: secrets cannot be stored); every key in
 * `keys` decrypts, by the id stored on each row. A key id is derived from the key (HMAC, never the key) or configured.
 */
export interface SecretsKeyring {
  current: { id: string; key: Buffer } | undefined;
  keys: ReadonlyMap<string, Buffer>;
  /** where the keys came from: the configuration, the fixed development key (simulator only), or none */
  source: "configured" | "development" | "none";
}

/**
 * The fixed key of a development or test setup on the simulator without SECRETS_KEY. Public (it is in the source), so
 * only ever used where nothing real runs: NODE_ENV development or test AND the simulator.
 */
export const DEVELOPMENT_KEY_ID = "dev-insecure";
const DEVELOPMENT_KEY = Buffer.alloc(SECRETS_KEY_BYTES, "trainpod-development-secrets-key");

const KEY_ID = /^[A-Za-z0-9._-]{1,40}$/;

function invalid(problem: string): AppError {
  return new AppError("CONFIG_INVALID", `invalid configuration:\n  - ${problem}`, { details: { problems: [problem] } });
}

/** 32 bytes from 64 hex characters or base64 (standard or url-safe, padded or not). Never echoes the text. */
export function parseKeyMaterial(text: string, variable: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, "hex");
  if (/^[A-Za-z0-9+/_-]{42,43}={0,2}$/.test(t)) {
    const bytes = Buffer.from(t.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length === SECRETS_KEY_BYTES) return bytes;
  }
  throw invalid(
    `${variable}: must be ${SECRETS_KEY_BYTES} random bytes as 64 hex characters or base64 (openssl rand -base64 32)`,
  );
}

/** A key's id when none is configured: the first 12 hex characters of HMAC-SHA256(key, label); reveals nothing of the key. */
export function derivedKeyId(key: Buffer): string {
  return `k${createHmac("sha256", key).update("trainpod secrets key id").digest("hex").slice(0, 12)}`;
}

/**
 * The keyring of SECRETS_KEY (one key, its id derived) or SECRETS_KEYS (`id:key,id:key` or `key,key`, ids derived where
 * left out: the first encrypts, all decrypt). Neither: the development key on the simulator in development or test,
 * else none. Throws CONFIG_INVALID for a malformed value, both variables set, or a repeated id.
 */
export function parseSecretsKeyring(input: {
  SECRETS_KEY?: string | undefined;
  SECRETS_KEYS?: string | undefined;
  /** development or test on the simulator: the only place the fixed development key may serve */
  developmentFallback: boolean;
}): SecretsKeyring {
  const single = input.SECRETS_KEY?.trim() || undefined;
  const list = input.SECRETS_KEYS?.trim() || undefined;
  if (single !== undefined && list !== undefined)
    throw invalid("SECRETS_KEY and SECRETS_KEYS: set one (SECRETS_KEYS lists the current key first while rotating)");
  if (single === undefined && list === undefined) {
    if (!input.developmentFallback) return { current: undefined, keys: new Map(), source: "none" };
    const current = { id: DEVELOPMENT_KEY_ID, key: DEVELOPMENT_KEY };
    return { current, keys: new Map([[current.id, current.key]]), source: "development" };
  }
  const entries = single !== undefined ? [single] : (list ?? "").split(",").map((e) => e.trim());
  const variable = single !== undefined ? "SECRETS_KEY" : "SECRETS_KEYS";
  const keys = new Map<string, Buffer>();
  let current: SecretsKeyring["current"];
  entries.forEach((entry, i) => {
    const at = entry.indexOf(":");
    const id = at >= 0 ? entry.slice(0, at).trim() : undefined;
    const where = single !== undefined ? variable : `${variable} (entry ${i + 1})`;
    const key = parseKeyMaterial(at >= 0 ? entry.slice(at + 1) : entry, where);
    if (id !== undefined && !KEY_ID.test(id)) throw invalid(`${where}: a key id is 1-40 of A-Z a-z 0-9 . _ -`);
    const keyId = id ?? derivedKeyId(key);
    if (keys.has(keyId)) throw invalid(`${variable}: key id "${keyId}" appears twice`);
    keys.set(keyId, key);
    current ??= { id: keyId, key };
  });
  return { current, keys, source: "configured" };
}

const byConfig = new WeakMap<object, SecretsKeyring>();

/** The keyring of a loaded configuration (parsed once per Config object); throws CONFIG_INVALID when malformed. */
export function secretsKeyring(config: Pick<Config, "env" | "runpod">): SecretsKeyring {
  const known = byConfig.get(config);
  if (known) return known;
  const env = config.env;
  const keyring = parseSecretsKeyring({
    SECRETS_KEY: env.SECRETS_KEY,
    SECRETS_KEYS: env.SECRETS_KEYS,
    developmentFallback: env.NODE_ENV !== "production" && config.runpod.simulated,
  });
  byConfig.set(config, keyring);
  return keyring;
}

/** The key that encrypts, or a clear error: secrets cannot be stored without SECRETS_KEY. */
export function encryptingKey(keyring: SecretsKeyring): { id: string; key: Buffer } {
  if (keyring.current) return keyring.current;
  throw new AppError(
    "CONFIG_INVALID",
    "secrets are disabled on this server: set SECRETS_KEY (32 random bytes, hex or base64) to store them",
  );
}
