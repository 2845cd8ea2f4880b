import type { Router } from "express";
import { assertScreenAccess } from "@trainpod/core";
import { LOGIN_PATH, LOGOUT_PATH } from "../http/admin-auth";
import { browserLoginRoutes, type BrowserLoginDeps } from "./browser-login";

export type AdminLoginDeps = BrowserLoginDeps;

/** Where a login may send the browser: one of the two screens, nothing else (no open redirect). */
function nextTarget(value: unknown): string {
  return typeof value === "string" && value.startsWith("/admin/queues") ? "/admin/queues/" : "/dashboard/";
}

/**
 * The operators' browser login. GET /admin/login: the page. POST /admin/login (form or JSON `{key}`, from
 * our own origin only): an ADMIN's or OPERATOR's API key starts a session (AdminSessions) in the
 * `tp_admin` cookie (HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS); a form is redirected (303)
 * to the screen it came from, JSON gets 204. POST /admin/logout (our origin only): the session is
 * deleted and the cookie cleared.
 */
export function adminLoginRoutes(deps: AdminLoginDeps): Router {
  return browserLoginRoutes(deps, {
    loginPath: LOGIN_PATH,
    logoutPath: LOGOUT_PATH,
    nextTarget,
    authorize: (user) => assertScreenAccess(user.role, "GET"),
    refusals: {
      UNAUTHORIZED: { status: 401, message: "That key is unknown or revoked." },
      FORBIDDEN: { status: 403, message: "That key is not an admin's or an operator's." },
    },
    logMessage: "admin session started",
    page: {
      keyLabel: "Admin or operator API key",
      note: "The session ends after a while unused, at the latest some hours after this login, and when the key is revoked.",
    },
  });
}
