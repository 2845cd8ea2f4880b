import type { Router } from "express";
import { runPageTarget, USER_LOGIN_PATH, USER_LOGOUT_PATH } from "../user-screens-auth";
import { browserLoginRoutes, type BrowserLoginDeps } from "./browser-login";

export type RunPageLoginDeps = BrowserLoginDeps;

/**
 * The users' browser login, the admin login's twin for every role. GET /login: the page. POST /login (form or
 * JSON `{key}`, from our own origin only): any live API key starts a browser session (AdminSessions, the same
 * `tp_admin` cookie and rules: HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS); a form is redirected (303)
 * to the run page it came from, JSON gets 204. POST /logout (our origin only): the session is deleted.
 */
export function runPageLoginRoutes(deps: RunPageLoginDeps): Router {
  return browserLoginRoutes(deps, {
    loginPath: USER_LOGIN_PATH,
    logoutPath: USER_LOGOUT_PATH,
    nextTarget: runPageTarget,
    refusals: { UNAUTHORIZED: { status: 401, message: "That key is unknown or revoked." } },
    logMessage: "browser session started",
    page: {
      intro: "Your runs: loss curves, phases, cost and logs.",
      keyLabel: "Your API key",
      note:
        "The key is not kept in the browser: a session cookie is. It ends after a while unused, at the latest " +
        "some hours after this login, and when the key is revoked.",
    },
  });
}
