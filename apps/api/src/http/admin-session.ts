import { createHash, randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import type { Redis } from "ioredis";
import type { Clock, PrismaClient, UserRole } from "@trainpod/core";

/**
 * The browser session of the operators' screens and of the users' run pages (one login, one cookie): an opaque
 * random id in an HttpOnly, SameSite=Strict cookie. Which screens it reaches is its user's role, read on every
 * request: the admin screens need ADMIN or OPERATOR (admin-auth.ts), the run pages any role (user-screens-auth.ts).
 */
export const SESSION_COOKIE = "tp_admin";

export interface SessionLimits {
  /** unused this long: over */
  idleMs: number;
  /** this long after its login: over, however busy */
  absoluteMs: number;
  /** a revoked key or a changed role is seen within this long (the API key cache TTL) */
  keyCacheTtlMs: number;
}

/** What Redis keeps per session (under the hash of its id; the id itself is only in the cookie). */
interface SessionRecord {
  userId: string;
  apiKeyId: string;
  createdAt: number;
  seenAt: number;
}

export interface SessionUser {
  id: string;
  email: string;
  role: UserRole;
  apiKeyId: string;
}

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Sessions in Redis, so every API replica sees a login and a logout at once. Key:
 * `<QUEUE_PREFIX>:admin-session:<sha256 of the id>` (a Redis dump gives no usable cookie), value: who,
 * with which API key, since when, last seen when. Over when idle `idleMs`, `absoluteMs` after the login
 * (times from the app's clock; Redis expires the key too), at logout (deleted), or when its API key is
 * revoked (checked against Postgres at most every `keyCacheTtlMs`, with the user's role of that moment).
 */
export class AdminSessions {
  private readonly keys = new Map<string, { until: number; user: SessionUser | null }>();

  constructor(
    private readonly deps: { redis: Redis; prisma: PrismaClient; clock: Clock; prefix: string },
    private readonly limits: SessionLimits,
  ) {}

  private redisKey(id: string): string {
    return `${this.deps.prefix}:admin-session:${sha256Hex(id)}`;
  }

  private ttlMs(record: SessionRecord, now: number): number {
    return Math.min(record.seenAt + this.limits.idleMs, record.createdAt + this.limits.absoluteMs) - now;
  }

  /** A new session for this API key's user; answers its id (for the cookie only). */
  async create(user: { id: string; apiKeyId: string }): Promise<string> {
    const id = randomBytes(32).toString("base64url");
    const now = this.deps.clock.now().getTime();
    const record: SessionRecord = { userId: user.id, apiKeyId: user.apiKeyId, createdAt: now, seenAt: now };
    await this.deps.redis.set(this.redisKey(id), JSON.stringify(record), "PX", this.ttlMs(record, now));
    return id;
  }

  /** The session's user, or null when it is unknown, over, or its key was revoked (then it is deleted). */
  async resolve(id: string): Promise<SessionUser | null> {
    if (!SESSION_ID.test(id)) return null;
    const key = this.redisKey(id);
    const raw = await this.deps.redis.get(key);
    if (!raw) return null;
    const record = JSON.parse(raw) as SessionRecord;
    const now = this.deps.clock.now().getTime();
    const ttl = this.ttlMs(record, now);
    const user = ttl > 0 ? await this.liveKey(record.apiKeyId) : null;
    if (!user || user.id !== record.userId) {
      await this.deps.redis.del(key);
      return null;
    }
    // idle clock: written at most every tenth of the idle time (XX: never brings back a logged-out session)
    if (now - record.seenAt >= Math.min(60_000, this.limits.idleMs / 10)) {
      const touched = { ...record, seenAt: now };
      await this.deps.redis.set(key, JSON.stringify(touched), "PX", this.ttlMs(touched, now), "XX");
    }
    return user;
  }

  async destroy(id: string): Promise<void> {
    if (SESSION_ID.test(id)) await this.deps.redis.del(this.redisKey(id));
  }

  /** The API key's user (any role: each screen checks it) when the key is live; cached per process for keyCacheTtlMs. */
  private async liveKey(apiKeyId: string): Promise<SessionUser | null> {
    const now = this.deps.clock.now().getTime();
    const hit = this.keys.get(apiKeyId);
    if (hit && hit.until > now) return hit.user;
    const row = await this.deps.prisma.apiKey.findFirst({
      where: { id: apiKeyId, revokedAt: null },
      include: { user: true },
    });
    const user = row ? { id: row.user.id, email: row.user.email, role: row.user.role, apiKeyId: row.id } : null;
    if (this.limits.keyCacheTtlMs > 0) {
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(apiKeyId, { until: now + this.limits.keyCacheTtlMs, user });
    }
    return user;
  }
}

/** The session id of the request's `tp_admin` cookie, if any. */
export function sessionIdFrom(req: Request): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const cookieOptions = (req: Request) => ({
  httpOnly: true,
  sameSite: "strict" as const,
  secure: req.secure,
  path: "/",
});

export function setSessionCookie(req: Request, res: Response, id: string, maxAgeMs: number): void {
  res.cookie(SESSION_COOKIE, id, { ...cookieOptions(req), maxAge: maxAgeMs });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, cookieOptions(req));
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
export const isReadMethod = (method: string): boolean => READ_METHODS.has(method.toUpperCase());

/**
 * Did the request come from one of our own pages? `Sec-Fetch-Site: same-origin` (every current
 * browser sends it to HTTPS and localhost); without it (older browsers, plain-HTTP hosts), `Origin`
 * must be the request's own origin or PUBLIC_URL's. Neither header: no (a browser always sends
 * Origin on a POST, so this refuses nothing a real page of ours sends).
 */
export function isSameOrigin(req: Request, publicUrl: string | undefined): boolean {
  const site = req.get("sec-fetch-site");
  if (site !== undefined) return site === "same-origin";
  const origin = req.get("origin");
  if (!origin || origin === "null") return false;
  const own = new Set([`${req.protocol}://${req.get("host") ?? ""}`]);
  if (publicUrl) own.add(new URL(publicUrl).origin);
  return own.has(origin);
}
