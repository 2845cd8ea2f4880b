import express, { Router, type Request, type RequestHandler, type Response } from "express";
import { ApiKeyCache, AppError, type Clock, type Logger, type PrismaClient, type User } from "@trainpod/core";
import {
  clearSessionCookie,
  isSameOrigin,
  sessionIdFrom,
  setSessionCookie,
  type AdminSessions,
} from "../http/admin-session";
import { escapeHtml } from "./run-page-html";

export interface BrowserLoginDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  sessions: AdminSessions;
  publicUrl?: string;
  /** the cookie's Max-Age: the session's absolute lifetime */
  sessionMaxMs: number;
}

/** What differs between the operators' login and the users' login; the rest is the same code. */
export interface BrowserLoginOptions {
  loginPath: string;
  logoutPath: string;
  /** where a login may send the browser: a checked, fixed path (no open redirect) */
  nextTarget: (value: unknown) => string;
  /** refuses a found key that may not log in here (throws an AppError) */
  authorize?: (user: User) => void;
  /** the AppError codes a form is answered with the page for (status and message); others are thrown */
  refusals: Record<string, { status: number; message: string }>;
  /** the log line of a started session */
  logMessage: string;
  page: {
    /** a paragraph under the heading, or none */
    intro?: string;
    keyLabel: string;
    /** the note under the form */
    note: string;
  };
}

/** A browser's form (navigation) rather than a script's JSON: answer with pages and redirects. */
const fromForm = (req: Request) =>
  req.get("sec-fetch-mode") === "navigate" ||
  /^application\/x-www-form-urlencoded/i.test(req.get("content-type") ?? "");

/** The login page: no script (the CSP allows none inline), nothing from the request but a checked target. */
function loginPage(res: Response, options: BrowserLoginOptions, status: number, next: string, error?: string): void {
  const { page } = options;
  const message = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : "";
  const intro = page.intro ? `\n  <p>${page.intro}</p>` : "";
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
  <h1>trainpod</h1>${intro}
  ${message}
  <form method="post" action="${options.loginPath}">
    <input type="hidden" name="next" value="${escapeHtml(next)}">
    <label for="key">${page.keyLabel}</label>
    <input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Log in</button>
  </form>
  <p class="muted">${page.note}</p>
</body>
</html>
`);
}

/**
 * A browser login over API keys. GET loginPath: the page. POST loginPath (form or JSON `{key}`, from our own
 * origin only): a live key that `authorize` accepts starts a session (AdminSessions) in the `tp_admin` cookie
 * (HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS); a form is redirected (303) to its checked target,
 * JSON gets 204. POST logoutPath (our origin only): the session is deleted and the cookie cleared.
 */
export function browserLoginRoutes(deps: BrowserLoginDeps, options: BrowserLoginOptions): Router {
  const router = Router();
  const keys = new ApiKeyCache(deps.prisma, deps.clock, { ttlMs: 0 });
  const form = express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 10 });
  const sameOrigin: RequestHandler = (req, _res, next) => {
    if (!isSameOrigin(req, deps.publicUrl))
      throw new AppError("FORBIDDEN", "cross-origin request refused: log in and out from trainpod's own pages");
    next();
  };

  router.get(options.loginPath, (req, res) => loginPage(res, options, 200, options.nextTarget(req.query.next)));

  router.post(options.loginPath, sameOrigin, form, async (req, res) => {
    const body: Record<string, unknown> =
      typeof req.body === "object" && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const next = options.nextTarget(body.next);
    let found;
    try {
      found = await keys.authenticate(typeof body.key === "string" ? body.key.trim() : undefined);
      options.authorize?.(found.user);
    } catch (err) {
      const refusal = err instanceof AppError ? options.refusals[err.code] : undefined;
      if (refusal && fromForm(req)) return loginPage(res, options, refusal.status, next, refusal.message);
      throw err;
    }
    const previous = sessionIdFrom(req);
    if (previous !== undefined) await deps.sessions.destroy(previous);
    const id = await deps.sessions.create({ id: found.user.id, apiKeyId: found.apiKey.id });
    setSessionCookie(req, res, id, deps.sessionMaxMs);
    deps.logger.info(options.logMessage, {
      requestId: req.id,
      userId: found.user.id,
      apiKeyId: found.apiKey.id,
      role: found.user.role,
    });
    if (fromForm(req)) return res.redirect(303, next);
    res.status(204).end();
  });

  router.post(options.logoutPath, sameOrigin, async (req, res) => {
    const id = sessionIdFrom(req);
    if (id !== undefined) await deps.sessions.destroy(id);
    clearSessionCookie(req, res);
    if (fromForm(req)) return res.redirect(303, options.loginPath);
    res.status(204).end();
  });

  return router;
}
