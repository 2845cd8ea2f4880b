import express, { Router, type Request, type RequestHandler, type Response } from "express";
import { ApiKeyCache, AppError, type Clock, type Logger, type PrismaClient } from "@trainpod/core";
import {
  clearSessionCookie,
  isSameOrigin,
  sessionIdFrom,
  setSessionCookie,
  type AdminSessions,
} from "../http/admin-session";
import { runPageTarget, USER_LOGIN_PATH, USER_LOGOUT_PATH } from "../user-screens-auth";
import { escapeHtml } from "./run-page-html";

export interface RunPageLoginDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  sessions: AdminSessions;
  publicUrl?: string;
  /** the cookie's Max-Age: the session's absolute lifetime */
  sessionMaxMs: number;
}

/** A browser's form (navigation) rather than a script's JSON: answer with pages and redirects. */
const fromForm = (req: Request) =>
  req.get("sec-fetch-mode") === "navigate" ||
  /^application\/x-www-form-urlencoded/i.test(req.get("content-type") ?? "");

/** The login page: no script, nothing from the request but a checked run-page path. */
function loginPage(res: Response, status: number, next: string, error?: string): void {
  const message = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : "";
  res.status(status).set("Cache-Control", "no-store").type("html").send(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>trainpod: log in</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>
    body { font-family: system-ui, sans-serif; max-width: 26rem; margin: 4rem auto; padding: 0 1rem; color: #111827; }
    label { display: block; margin: 1rem 0 .25rem; } input { width: 100%; padding: .5rem; box-sizing: border-box; }
    button { margin-top: 1rem; padding: .5rem 1.25rem; } .error { color: #b91c1c; } .muted { color: #6b7280; font-size: .9rem; }
  </style>
</head>
<body>
  <h1>trainpod</h1>
  <p>Your runs: loss curves, phases, cost and logs.</p>
  ${message}
  <form method="post" action="${USER_LOGIN_PATH}">
    <input type="hidden" name="next" value="${escapeHtml(next)}">
    <label for="key">Your API key</label>
    <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Log in</button>
  </form>
  <p class="muted">The key is not kept in the browser: a session cookie is. It ends after a while unused, at the latest
  some hours after this login, and when the key is revoked.</p>
</body>
</html>
`);
}

/**
 * The users' browser login, the admin login's twin for every role. GET /login: the page. POST /login (form or
 * JSON `{key}`, from our own origin only): any live API key starts a browser session (AdminSessions, the same
 * `tp_admin` cookie and rules: HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS); a form is redirected (303)
 * to the run page it came from, JSON gets 204. POST /logout (our origin only): the session is deleted.
 */
export function runPageLoginRoutes(deps: RunPageLoginDeps): Router {
  const router = Router();
  const keys = new ApiKeyCache(deps.prisma, deps.clock, { ttlMs: 0 });
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 10 });
  const sameOrigin: RequestHandler = (req, _res, next) => {
    if (!isSameOrigin(req, deps.publicUrl))
      throw new AppError("FORBIDDEN", "cross-origin request refused: log in and out from trainpod's own pages");
    next();
  };

  router.get(USER_LOGIN_PATH, (req, res) => loginPage(res, 200, runPageTarget(req.query.next)));

  router.post(USER_LOGIN_PATH, sameOrigin, form, async (req, res) => {
    const body: Record<string, unknown> =
      typeof req.body === "object" && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const next = runPageTarget(body.next);
    let found;
    try {
      found = await keys.authenticate(typeof body.key === "string" ? body.key.trim() : undefined);
    } catch (err) {
      if (err instanceof AppError && err.code === "UNAUTHORIZED" && fromForm(req))
        return loginPage(res, 401, next, "That key is unknown or revoked.");
      throw err;
    }
    const previous = sessionIdFrom(req);
    if (previous !== undefined) await deps.sessions.destroy(previous);
    const id = await deps.sessions.create({ id: found.user.id, apiKeyId: found.apiKey.id });
    setSessionCookie(req, res, id, deps.sessionMaxMs);
    deps.logger.info("browser session started", {
      requestId: req.id,
      userId: found.user.id,
      apiKeyId: found.apiKey.id,
      role: found.user.role,
    });
    if (fromForm(req)) return res.redirect(303, next);
    res.status(204).end();
  });

  router.post(USER_LOGOUT_PATH, sameOrigin, async (req, res) => {
    const id = sessionIdFrom(req);
    if (id !== undefined) await deps.sessions.destroy(id);
    clearSessionCookie(req, res);
    if (fromForm(req)) return res.redirect(303, USER_LOGIN_PATH);
    res.status(204).end();
  });

  return router;
}
