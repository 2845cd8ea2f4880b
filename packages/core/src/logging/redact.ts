/** Keys whose values never reach a log line. Matched case-insensitively against the key name. */
const SECRET_KEY = /(token|secret|password|passwd|authorization|cookie|api[-_]?key|apikey|runpodkey|credential)/i;
export const REDACTED = "[REDACTED]";
/**
 * Keys whose whole value is redacted, whatever it holds: a pod's `env` (RunPod echoes it in pod listings) carries the
 * run's tokens and the user's secrets under names of the user's choosing.
 */
const SECRET_OBJECT_KEY = /^env$/i;

/** Secret-looking substrings of free text: bearer credentials and token query parameters. */
const SECRET_TEXT: Array<[RegExp, string]> = [
  [/(bearer\s+)[^\s"',]+/gi, `$1${REDACTED}`],
  [/([?&](?:token|key|api_key|apikey)=)[^&\s"']+/gi, `$1${REDACTED}`],
  [/\btp_(?:live|ds|run)_[A-Za-z0-9_-]{8,}/g, REDACTED],
  // Hugging Face access tokens (a user's HF_TOKEN in a hub error or a traceback)
  [/\bhf_[A-Za-z0-9]{30,}/g, REDACTED],
];

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

/** A deep copy of `value` with secret keys replaced and secret-looking text masked. */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 8 || seen.has(value)) return "[Truncated]";
  seen.add(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      stack: value.stack ? redactText(value.stack) : undefined,
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      isSecretKey(k) || (SECRET_OBJECT_KEY.test(k) && v !== null && typeof v === "object")
        ? REDACTED
        : redact(v, depth + 1, seen);
  }
  return out;
}
