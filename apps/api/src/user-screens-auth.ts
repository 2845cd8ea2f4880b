import type { Request, RequestHandler } from "express";
import { ApiKeyCache, AppError, type Clock, type PrismaClient } from "@trainpod/core";
import { authenticateRequest, bearerToken } from "./http/auth";
import {
  clearSessionCookie,
  isReadMethod,
  isSameOrigin,
  sessionIdFrom,
  type AdminSessions,
} from "./http/admin-session";

/** The users' login page (the run pages send a browser without a session there). */
export const USER_LOGIN_PATH = "/login";
export const USER_LOGOUT_PATH = "/logout";
/** Where a login may send the browser back to: the run pages only (no open redirect). */
const RUN_PAGE = /^\/runs(?:\/(?:new|[0-9a-f-]{36}))?\/?$/;

/** The run page a login goes back to: `value` when it is one, else the list. */
export function runPageTarget(value: unknown): string {
  return typeof value === "string" && RUN_PAGE.test(value) ? value : "/runs";
}

export interface UserAuthDeps {
  prisma: PrismaClient;
  clock: Clock;
  sessions: AdminSessions;
  /** PUBLIC_URL: its origin is ours too (behind a proxy that rewrites Host) */
  publicUrl?: string;
  apiKeyCacheTtlMs?: number;
}

/**
 * The user's routes (/v1/deployments, /v1/datasets, /v1/spend) and the run pages: any live API key's user, as
 * - `Authorization: Bearer <API key>` (scripts, the CLI), as before; or
 * - the browser session of the login (`tp_admin` cookie, AdminSessions), whatever the user's role: a request
 *   that changes something (not GET/HEAD/OPTIONS) must come from our own origin (`Sec-Fetch-Site`, else
 *   `Origin`), or 403, exactly as on the admin screens.
 * Nothing else: no HTTP Basic. No or a bad credential: 401. Each route then sees only its user's resources.
 */
export function userAuth(deps: UserAuthDeps): RequestHandler {
  const keys = new ApiKeyCache(deps.prisma, deps.clock, { ttlMs: deps.apiKeyCacheTtlMs ?? 0 });
  return async (req, res, next) => {
    const bearer = bearerToken(req.get("authorization"));
    const sessionId = bearer === undefined ? sessionIdFrom(req) : undefined;
    if (sessionId === undefined) {
      await authenticateRequest(keys, req, bearer);
      return next();
    }
    if (!isReadMethod(req.method) && !isSameOrigin(req, deps.publicUrl)) {
      throw new AppError(
        "FORBIDDEN",
        "cross-origin request refused: with the browser session, only trainpod's own pages may change anything",
      );
    }
    const user = await deps.sessions.resolve(sessionId);
    if (!user) {
      clearSessionCookie(req, res);
      throw new AppError("UNAUTHORIZED", `the session is over or unknown: log in again at ${USER_LOGIN_PATH}`);
    }
    req.user = user;
    next();
  };
}

/** A browser opening a page itself (not a script, not a fetch of the page's own code). */
export function isPageNavigation(req: Request): boolean {
  if (req.method !== "GET") return false;
  const mode = req.get("sec-fetch-mode");
  return mode !== undefined ? mode === "navigate" : (req.get("accept") ?? "").includes("text/html");
}

/** userAuth for the run pages: a browser opening one without a session is sent to the login, then back. */
export function runPageAuth(auth: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    try {
      await new Promise<void>((resolve, reject) => {
        Promise.resolve(auth(req, res, (err?: unknown) => (err ? reject(err) : resolve()))).catch(reject);
      });
    } catch (err) {
      if (err instanceof AppError && err.code === "UNAUTHORIZED" && isPageNavigation(req))
        return res.redirect(
          303,
          `${USER_LOGIN_PATH}?next=${encodeURIComponent(runPageTarget(req.originalUrl.split("?")[0]))}`,
        );
      throw err;
    }
    next();
  };
}
