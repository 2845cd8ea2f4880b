import { z } from "zod";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";

/** The body of a browser login (POST /login, POST /admin/login). */
export const loginBody: Body = {
  description: "JSON, or a form with `key` and `next` (then 303 to `next`)",
  schema: z.object({ key: z.string(), next: z.string().optional() }),
  example: { key: "tp_live_3q2x..." },
};

/** A browser logout (POST /logout, POST /admin/logout): the session deleted, the cookie cleared. */
export const logoutOperation = (path: string, tag: string): Operation => ({
  method: "post",
  path,
  summary: "Ends the browser session (deleted, cookie cleared). Our own origin only",
  tag,
  security: "none",
  responses: {
    204: { description: "logged out" },
    303: { description: "a form: logged out, sent to the login page" },
    403: { description: "from another origin", schema: s.errorSchema },
  },
});
