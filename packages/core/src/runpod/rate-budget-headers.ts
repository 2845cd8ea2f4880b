/**
 * RunPod's quota headers (IETF ratelimit-headers draft), structured-field lists (RFC 8941):
 *
 *   RateLimit:        "minute";r=0;t=12, "hour";r=2800;t=1812, "day";r=49500;t=45012
 *   RateLimit-Policy: "minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400
 *
 * Parsed leniently, because a header we cannot read must never fail the call that carried it:
 * names may be quoted or bare tokens, whitespace may surround `,` `;` `=`, unknown parameters
 * are ignored, and a member we cannot make sense of is skipped on its own (a list with no usable
 * member is `null`, as is an absent header: RunPod omits both for rate-limit-exempt callers).
 */

/** One window of `RateLimit`: `r` calls remain, the window resets in `t` seconds (absent: unknown). */
export interface RateLimitWindow {
  name: string;
  r: number;
  t?: number;
}

/** One window of `RateLimit-Policy`: `q` calls per window of `w` seconds. */
export interface RateLimitPolicyWindow {
  name: string;
  q: number;
  w: number;
}

type BareItem = string | number | boolean;

interface Member {
  name: string;
  params: Map<string, BareItem>;
}

/** `RateLimit` → its windows; `null` when absent or unreadable. */
export function parseRateLimit(header: string | null | undefined): RateLimitWindow[] | null {
  const windows: RateLimitWindow[] = [];
  for (const { name, params } of parseList(header)) {
    const r = count(params.get("r"));
    if (r === undefined) continue;
    const t = params.has("t") ? seconds(params.get("t")) : undefined;
    if (params.has("t") && t === undefined) continue;
    windows.push(t === undefined ? { name, r } : { name, r, t });
  }
  return windows.length > 0 ? windows : null;
}

/** `RateLimit-Policy` → its windows; `null` when absent or unreadable. A window of 0 s is skipped. */
export function parseRateLimitPolicy(header: string | null | undefined): RateLimitPolicyWindow[] | null {
  const windows: RateLimitPolicyWindow[] = [];
  for (const { name, params } of parseList(header)) {
    const q = count(params.get("q"));
    const w = seconds(params.get("w"));
    if (q === undefined || w === undefined || w <= 0) continue;
    windows.push({ name, q, w });
  }
  return windows.length > 0 ? windows : null;
}

const count = (v: BareItem | undefined): number | undefined =>
  typeof v === "number" && v >= 0 ? Math.floor(v) : undefined;
const seconds = (v: BareItem | undefined): number | undefined => (typeof v === "number" && v >= 0 ? v : undefined);

/** The members of a structured-field list that are a named item; anything else is skipped. */
function parseList(header: string | null | undefined): Member[] {
  if (typeof header !== "string") return [];
  const cursor = { s: header, i: 0 };
  const members: Member[] = [];
  while (cursor.i < cursor.s.length) {
    const start = cursor.i;
    const member = parseMember(cursor);
    if (member) members.push(member);
    else cursor.i = nextComma(header, start);
    cursor.i += 1; // past the comma (or the end)
  }
  return members;
}

interface Cursor {
  s: string;
  i: number;
}

/** One member, leaving the cursor on the comma that ends it (or the end); null if malformed. */
function parseMember(c: Cursor): Member | null {
  skipSpace(c);
  const name = parseBareItem(c);
  if (typeof name !== "string") return null;
  const params = new Map<string, BareItem>();
  for (;;) {
    skipSpace(c);
    if (c.i >= c.s.length || c.s[c.i] === ",") return { name, params };
    if (c.s[c.i] !== ";") return null;
    c.i += 1;
    skipSpace(c);
    const key = /^[a-z*][a-z0-9_\-.*]*/i.exec(c.s.slice(c.i))?.[0];
    if (!key) return null;
    c.i += key.length;
    skipSpace(c);
    let value: BareItem | null = true;
    if (c.s[c.i] === "=") {
      c.i += 1;
      skipSpace(c);
      value = parseBareItem(c);
      if (value === null) return null;
    }
    if (!params.has(key.toLowerCase())) params.set(key.toLowerCase(), value);
  }
}

/**
 * A string or token (→ string), an integer or decimal (→ number), `?0`/`?1` (→ boolean), a byte
 * sequence `:base64:` (→ its text, only ever an ignored parameter); null otherwise.
 */
function parseBareItem(c: Cursor): BareItem | null {
  const rest = c.s.slice(c.i);
  if (rest.startsWith('"')) return parseString(c);
  const match =
    /^-?\d+(\.\d+)?/.exec(rest) ??
    /^[a-z*][\w!#$%&'*+\-.^`|~:/]*/i.exec(rest) ??
    /^\?[01]/.exec(rest) ??
    /^:[A-Za-z0-9+/=]*:/.exec(rest);
  if (!match) return null;
  c.i += match[0].length;
  if (match[0].startsWith("?")) return match[0] === "?1";
  return /^[-\d]/.test(match[0]) ? Number(match[0]) : match[0];
}

function parseString(c: Cursor): string | null {
  let out = "";
  for (let i = c.i + 1; i < c.s.length; i += 1) {
    const ch = c.s[i];
    if (ch === '"') {
      c.i = i + 1;
      return out;
    }
    if (ch === "\\") {
      i += 1;
      if (i >= c.s.length) return null;
    }
    out += c.s[i];
  }
  return null; // no closing quote
}

function skipSpace(c: Cursor): void {
  while (c.s[c.i] === " " || c.s[c.i] === "\t") c.i += 1;
}

/** The index of the next comma that is outside a quoted string, or the end. */
function nextComma(s: string, from: number): number {
  let quoted = false;
  for (let i = from; i < s.length; i += 1) {
    if (quoted && s[i] === "\\") i += 1;
    else if (s[i] === '"') quoted = !quoted;
    else if (!quoted && s[i] === ",") return i;
  }
  return s.length;
}
