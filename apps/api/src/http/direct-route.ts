import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from "express";

/** One route the app serves without its router: a method and an exact path (no query string, no trailing slash). */
export interface DirectRoute {
  method: string;
  path: string;
  /** the middlewares the router would run for it, in its order (the app's own, then the route's) */
  handlers: RequestHandler[];
  /** the app's error handler: whatever a middleware throws or passes to next(err) */
  onError: ErrorRequestHandler;
}

/**
 * Serves `route` ahead of Express's router, with the very middlewares the router would have run, in the same order:
 * the request and the answer get Express's prototypes and circular references as `app.handle` gives them, then each
 * middleware in turn, a thrown error or a rejected promise going to the app's error handler as Express 5 sends it.
 * Only matching (every app-level router and layer tried in turn, its mount path stripped and restored) is skipped: a
 * tenth of the submission's CPU (0.33-0.34 against 0.29-0.31 ms in two A/B pairs; issue 32 item 2, BENCHMARKS.md).
 * A request that is not exactly the route (a query string, another case, a trailing slash) goes through the router
 * as before, to the same middlewares.
 */
export function serveDirect(app: Express, route: DirectRoute): void {
  // `handle` is what the app, as a request listener, calls for every request (Express's typings leave it out)
  type Handle = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;
  const handled = app as unknown as { handle: Handle };
  const routed = handled.handle.bind(app);
  handled.handle = (req, res, next) => {
    // mounted in another app (next given): that app's router decides
    if (next !== undefined || req.method !== route.method || req.url !== route.path) return routed(req, res, next);
    run(app, route, req, res);
  };
}

function run(app: Express, route: DirectRoute, rawReq: IncomingMessage, rawRes: ServerResponse): void {
  const req = Object.setPrototypeOf(rawReq, app.request) as Request;
  const res = Object.setPrototypeOf(rawRes, app.response) as Response;
  req.res = res;
  res.req = req;
  res.locals = Object.create(null) as Response["locals"];
  req.originalUrl = req.url;
  req.baseUrl = "";
  req.params = {};
  let index = 0;
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    try {
      void route.onError(err, req, res, () => undefined);
    } catch {
      res.destroy();
    }
  };
  const next: NextFunction = (err?: unknown) => {
    if (err !== undefined && err !== null) return fail(err);
    const handler = route.handlers[index++];
    if (handler === undefined) return fail(new Error(`${route.method} ${route.path}: no middleware answered`));
    try {
      const out = handler(req, res, next) as unknown;
      if (out instanceof Promise) out.catch((e: unknown) => fail(e ?? new Error("rejected promise")));
    } catch (e) {
      fail(e);
    }
  };
  req.next = next;
  next();
}
