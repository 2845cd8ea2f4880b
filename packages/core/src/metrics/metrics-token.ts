import { sameDigest, sha256Hex } from "../auth/secret";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Does `Authorization` carry `Bearer <METRICS_TOKEN>`? Constant time; false when no token is configured. */
export function hasMetricsToken(authorization: string | undefined, token: string | undefined): boolean {
  const given = BEARER.exec(authorization ?? "")?.[1];
  if (given === undefined || token === undefined) return false;
  return sameDigest(sha256Hex(given), sha256Hex(token));
}
