import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Bytes of randomness in every key and token trainpod hands out. */
export const SECRET_BYTES = 32;

/** `${prefix}<32 random bytes, base64url>`: what a user or a pod holds; never stored. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(SECRET_BYTES).toString("base64url")}`;
}

/** sha256 hex of a secret: what the database stores and looks up by. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Does `value` look like `${prefix}<43 base64url chars>`? Cheap, before any database call. */
export function hasSecretShape(value: string, prefix: string): boolean {
  if (!value.startsWith(prefix)) return false;
  const rest = value.slice(prefix.length);
  return rest.length === 43 && /^[A-Za-z0-9_-]+$/.test(rest);
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
