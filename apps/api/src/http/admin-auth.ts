import type { Request, RequestHandler } from "express";
import { ApiKeyCache, AppError, type Clock, type PrismaClient } from "@trainpod/core";
import { authenticateRequest, bearerToken, requireScreenAccess } from "./auth";
import { clearSessionCookie, isReadMethod, isSameOrigin, sessionIdFrom, type AdminSessions } from "./admin-session";

const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;
/** The challenge of a 401: Bearer, never Basic, so no browser opens its own login prompt (and caches the key). */
export const ADMIN_REALM = 'Bearer realm="trainpod admin"';
export const LOGIN_PATH = "/admin/login";
export const LOGOUT_PATH = "/admin/logout";
/** The screens a browser opens itself: without a session it is sent to the login page. */
const PAGES = /^\/(dashboard|admin\/queues)(\/(?!api\/)|$)/;

/** The password of `Authorization: Basic ...` (any username), or undefined. */
export function basicPassword(header: string | undefined): string | undefined {
  const basic = BASIC.exec(header ?? "");
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** A browser opening one of the screens (not a script, not a fetch of the page's own code). */
function isPageNavigation(req: Request): boolean {
  if (req.method !== "GET" || !PAGES.test(req.originalUrl)) return false;
  const mode = req.get("sec-fetch-mode");
  return mode !== undefined ? mode === "navigate" : (req.get("accept") ?? "").includes("text/html");
}

/** The login page, sent back to this screen afterwards. */
export function loginUrl(req: Request): string {
  const back = req.originalUrl.startsWith("/admin/queues") ? "/admin/queues/" : "/dashboard/";
  return `${LOGIN_PATH}?next=${encodeURIComponent(back)}`;
}

export interface AdminAuthDeps {
  prisma: PrismaClient;
  clock: Clock;
  sessions: AdminSessions;
  /** PUBLIC_URL: its origin is ours too (behind a proxy that rewrites Host) */
  publicUrl?: string;
}

/**
 * Admin screens (dashboard, Bull Board, stats, /v1/admin, metrics): an ADMIN's or OPERATOR's credential,
 * one of
 * - `Authorization: Bearer <API key>` (scripts): never sent by a browser on its own, so no origin check;
 * - the `tp_admin` session cookie of POST /admin/login (browsers): a request that changes something
 *   (not GET/HEAD/OPTIONS) must come from our own origin (`Sec-Fetch-Site`, else `Origin`), or 403;
 * - HTTP Basic with the key as password, for GET/HEAD only (read-only scripts); never for a request
 *   that changes something, which a browser holding cached Basic credentials could be made to send.
 * No or a bad credential: 401 (a browser opening a screen is sent to the login page instead); a USER's
 * key, or an OPERATOR's on anything but a read: 403. Never open; keys are looked up on every request,
 * sessions as AdminSessions says.
 */
export function adminAuth(deps: AdminAuthDeps): RequestHandler {
  const keys = new ApiKeyCache(deps.prisma, deps.clock, { ttlMs: 0 });

  async function authenticate(req: Request, res: Parameters<RequestHandler>[1]): Promise<void> {
    const header = req.get("authorization");
    const bearer = bearerToken(header);
    if (bearer) return authenticateRequest(keys, req, bearer);
    const sessionId = sessionIdFrom(req);
    if (sessionId !== undefined) {
      if (!isReadMethod(req.method) && !isSameOrigin(req, deps.publicUrl)) {
        throw new AppError(
          "FORBIDDEN",
          "cross-origin request refused: with the admin session, only trainpod's own pages may change anything",
        );
      }
      const user = await deps.sessions.resolve(sessionId);
      if (!user) {
        clearSessionCookie(req, res);
        throw new AppError("UNAUTHORIZED", `the admin session is over or unknown: log in again at ${LOGIN_PATH}`);
      }
      req.user = user;
      return;
    }
    const password = basicPassword(header);
    if (password !== undefined && !isReadMethod(req.method)) {
      throw new AppError(
        "UNAUTHORIZED",
        `HTTP Basic is accepted for reads only: send Authorization: Bearer <admin API key>, or log in at ${LOGIN_PATH}`,
      );
    }
    return authenticateRequest(keys, req, password);
  }

  return async (req, res, next) => {
    try {
      await authenticate(req, res);
    } catch (err) {
      if (err instanceof AppError && err.code === "UNAUTHORIZED") {
        if (isPageNavigation(req)) return res.redirect(303, loginUrl(req));
        res.set("WWW-Authenticate", ADMIN_REALM);
      }
      throw err;
    }
    requireScreenAccess(req, res, next);
  };
}
