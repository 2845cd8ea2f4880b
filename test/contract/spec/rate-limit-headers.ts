/**
 * Shapes of the RateLimit / RateLimit-Policy structured-field lists (IETF ratelimit-headers draft),
 * written from the spec's examples:
 *   RateLimit:        "minute";r=0;t=12, "hour";r=2800;t=1812, "day";r=49500;t=45012
 *   RateLimit-Policy: "minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400
 * The schema itself only says `type: string`; the descriptions name the windows (minute, hour,
 * day) and the parameters (r/t, q/w).
 */

const WINDOW = `"(?:minute|hour|day)"`;
const list = (member: string): RegExp => new RegExp(`^${member}(?:\\s*,\\s*${member})*$`);

export const RATE_LIMIT_PATTERN = list(`${WINDOW};r=\\d+;t=\\d+`);
export const RATE_LIMIT_POLICY_PATTERN = list(`${WINDOW};q=\\d+;w=\\d+`);

/** lower-cased header name -> the shape its value must have */
export const STRUCTURED_HEADER_PATTERNS: Record<string, RegExp> = {
  ratelimit: RATE_LIMIT_PATTERN,
  "ratelimit-policy": RATE_LIMIT_POLICY_PATTERN,
};
