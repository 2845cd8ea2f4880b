import { z } from "zod";
import { DEPLOYMENT_STATUSES } from "@trainpod/core";
import { loginBody, logoutOperation } from "./browser-login-operations";
import * as ex from "./examples";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";

const html = (description: string): Body => ({ description, contentType: "text/html" });
const unauthorized: Body = {
  description: "no session and no API key (a browser opening a page is sent to /login instead: 303)",
  schema: s.errorSchema,
  example: {
    error: { code: "UNAUTHORIZED", message: "a valid API key is required (Authorization: Bearer tp_live_...)" },
  },
};
const notFound: Body = {
  description: "not one of the caller's runs (an HTML page for a browser)",
  schema: s.errorSchema,
  example: { error: { code: "NOT_FOUND", message: "deployment not found" } },
};

/**
 * The run pages of the people who train (apps/api/src/user-screens.ts) and the user's retry: the login's browser
 * session (the `tp_admin` cookie) or an API key; each shows only the caller's own runs.
 */
export const RUN_PAGE_OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/v1/deployments/{id}/retry",
    summary:
      "Retry one of your FAILED deployments: a new submission of the same request through every rule as it stands, linked by retryOfId (a second call returns the first retry)",
    tag: "deployments",
    security: "apiKey",
    responses: {
      202: {
        description: "the retry, queued",
        schema: s.deploymentSchema,
        example: { ...ex.deploymentExample, status: "QUEUED" },
      },
      200: {
        description: "the earlier retry",
        schema: s.deploymentSchema,
        example: { ...ex.deploymentExample, status: "QUEUED" },
      },
      404: notFound,
      409: {
        description:
          "not FAILED; an attempt that resumed it is live (details.liveAttemptId: a retry would run the job on two pods); or its dataset is gone",
        schema: s.errorSchema,
        example: {
          error: { code: "CONFLICT", message: "only a FAILED deployment can be retried; this one is RUNNING" },
        },
      },
      422: { description: "the request no longer passes the pre-flight checks or the budget", schema: s.errorSchema },
    },
  },
  {
    method: "get",
    path: "/login",
    summary: "The users' login page (a browser opening a run page without a session is sent here)",
    tag: "run pages",
    security: "none",
    query: z.object({ next: z.string().optional().describe("a run page: /runs, /runs/new or /runs/<id>") }),
    responses: { 200: html("HTML form") },
  },
  {
    method: "post",
    path: "/login",
    summary:
      "Any user's API key starts a browser session: the tp_admin cookie (HttpOnly, SameSite=Strict, Secure over HTTPS), the admin login's. Our own origin only",
    tag: "run pages",
    security: "none",
    body: loginBody,
    responses: {
      204: { description: "logged in; Set-Cookie: tp_admin" },
      303: { description: "a form: logged in, sent to the run page it came from" },
      401: { description: "unknown or revoked key", schema: s.errorSchema },
      403: { description: "from another origin", schema: s.errorSchema },
    },
  },
  logoutOperation("/logout", "run pages"),
  {
    method: "get",
    path: "/runs",
    summary: "My runs: your deployments, newest first, with status, phase, cost and estimate; filter and pages",
    tag: "run pages",
    security: "apiKey",
    query: z.object({
      status: z.enum(DEPLOYMENT_STATUSES as [string, ...string[]]).optional(),
      cursor: z.string().optional(),
    }),
    responses: {
      200: html("HTML page"),
      400: { description: "a bad filter or cursor", schema: s.errorSchema },
      401: unauthorized,
    },
  },
  {
    method: "get",
    path: "/runs/new",
    summary:
      "The new-run form: dataset (or upload), model, GPU types with prices, limits; estimate and pre-flight before submit",
    tag: "run pages",
    security: "apiKey",
    responses: { 200: html("HTML page"), 401: unauthorized },
  },
  {
    method: "get",
    path: "/runs/{id}",
    summary:
      "A run's page: train and eval loss, phases with durations and bytes, cost against maxCostUsd, failure and last log lines, files, cancel and retry; live over the timeline stream",
    tag: "run pages",
    security: "apiKey",
    responses: { 200: html("HTML page"), 401: unauthorized, 404: notFound },
  },
  {
    method: "get",
    path: "/runs/{id}/panel",
    summary: "The run page's live part (HTML), read again by the page's script as the timeline moves",
    tag: "run pages",
    security: "apiKey",
    responses: { 200: html("HTML fragment"), 401: unauthorized, 404: notFound },
  },
  {
    method: "get",
    path: "/runs/assets/vendor/chart.js",
    summary:
      "The run pages' chart library, served from node_modules (no CDN); the pages' other files are under /runs/assets/",
    tag: "run pages",
    security: "none",
    responses: { 200: { description: "JavaScript", contentType: "text/javascript" } },
  },
];
