import { z } from "zod";
import { adminListQuerySchema, statsQuerySchema } from "@trainpod/core";
import { loginBody, logoutOperation } from "./browser-login-operations";
import * as ex from "./examples";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";

const money = z.string().regex(/^-?\d+\.\d{6}$/);
const costFigures = z.object({
  count: z.number().int(),
  totalUsd: money,
  meanUsd: money.nullable(),
  p50Usd: money.nullable(),
  p95Usd: money.nullable(),
});
const percentiles = z.object({
  count: z.number().int(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});

/** GET /v1/stats (packages/core/src/stats/report.ts) */
export const statsSchema = z.object({
  window: z.object({ from: z.string(), to: z.string(), groupBy: z.enum(["day", "week", "month"]) }),
  deployments: z.object({
    total: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
    successRate: z.number().nullable(),
  }),
  failedCost: costFigures.extend({ byPeriod: z.array(costFigures.extend({ period: z.string() })) }),
  setupSeconds: z.object({ createdToRunning: percentiles, createdToTrainingStarted: percentiles }),
  runtimeByStatus: z.array(
    z.object({
      status: z.string(),
      count: z.number().int(),
      avgSeconds: z.number().nullable(),
      totalSeconds: z.number(),
    }),
  ),
  failureReasons: z.array(
    z.object({ reason: z.string().nullable(), count: z.number().int(), costUsd: money.nullable() }),
  ),
  retries: z.object({
    deployAttempts: z.number().int(),
    deploymentsRetried: z.number().int(),
    terminateAttempts: z.number().int(),
    terminationsRetried: z.number().int(),
    capacityWaits: z.number().int(),
    deploymentsThatWaitedForCapacity: z.number().int(),
  }),
  runpodBilling: z.object({
    deploymentsRead: z.number().int(),
    ourCostUsd: money,
    runpodBilledUsd: money,
    differenceUsd: money,
    overThreshold: z.number().int(),
    notReadYet: z.number().int(),
  }),
  tokens: z.object({
    minted: z.number().int(),
    used: z.number().int(),
    expiredUnused: z.number().int(),
    active: z.number().int(),
    revokedUnused: z.number().int(),
  }),
});

const cost = { count: 2, totalUsd: "0.094500", meanUsd: "0.047250", p50Usd: "0.047250", p95Usd: "0.047250" };
const statsExample = {
  window: { from: "2026-11-01T00:00:00.000Z", to: "2026-12-01T00:00:00.000Z", groupBy: "month" },
  deployments: { total: 10, byStatus: { SUCCEEDED: 8, FAILED: 2 }, successRate: 0.8 },
  failedCost: { ...cost, byPeriod: [{ period: "2026-11-01T00:00:00.000Z", ...cost }] },
  setupSeconds: {
    createdToRunning: { count: 10, p50: 62, p90: 75, p95: 80, p99: 90 },
    createdToTrainingStarted: { count: 10, p50: 70, p90: 85, p95: 90, p99: 99 },
  },
  runtimeByStatus: [{ status: "FAILED", count: 2, avgSeconds: 90, totalSeconds: 180 }],
  failureReasons: [{ reason: "TRAINING_FAILED", count: 2, costUsd: "0.094500" }],
  retries: {
    deployAttempts: 11,
    deploymentsRetried: 1,
    terminateAttempts: 10,
    terminationsRetried: 0,
    capacityWaits: 3,
    deploymentsThatWaitedForCapacity: 1,
  },
  runpodBilling: {
    deploymentsRead: 9,
    ourCostUsd: "0.081000",
    runpodBilledUsd: "0.080950",
    differenceUsd: "-0.000050",
    overThreshold: 0,
    notReadYet: 1,
  },
  tokens: { minted: 10, used: 10, expiredUnused: 0, active: 0, revokedUnused: 0 },
};

const denied: Record<number, Body> = {
  401: {
    description:
      "no or bad credential, a session that is over, or HTTP Basic on a request that changes something (WWW-Authenticate: Bearer; a browser opening a screen is sent to /admin/login)",
    schema: s.errorSchema,
    example: { error: { code: "UNAUTHORIZED", message: "admin login required" } },
  },
  403: {
    description:
      "a USER's key, an OPERATOR's on a route that changes something, or the session cookie on such a route from another origin",
    schema: s.errorSchema,
    example: { error: { code: "FORBIDDEN", message: "admin or operator only" } },
  },
};
const deployment = (description: string, status: string): Body => ({
  description,
  schema: s.deploymentSchema,
  example: { ...ex.deploymentExample, status },
});

/** Operators' routes: the login's session cookie (browsers), an admin's (or, to read, an operator's) API key as Bearer, or as the HTTP Basic password (reads only). */
export const ADMIN_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/v1/stats",
    summary: "Success rate, failed-run cost and waste, setup times, runtime, failure reasons, retries, tokens",
    tag: "admin",
    security: "admin",
    query: statsQuerySchema,
    responses: { 200: { description: "the figures", schema: statsSchema, example: statsExample }, ...denied },
  },
  {
    method: "get",
    path: "/v1/admin/deployments",
    summary: "Every user's deployments, newest first (LIVE = queued, provisioning or running)",
    tag: "admin",
    security: "admin",
    query: adminListQuerySchema,
    responses: {
      200: {
        description: "deployments",
        schema: z.object({
          items: z.array(s.deploymentSchema.extend({ userId: z.string(), lastLogLines: z.array(z.string()) })),
          viewer: z.object({ role: z.enum(["USER", "OPERATOR", "ADMIN"]), canAct: z.boolean() }),
        }),
        example: {
          items: [
            {
              ...ex.deploymentExample,
              userId: "8a3c2b1e-0f4d-4c5b-9a6e-7d8f9e0a1b2c",
              lastLogLines: ["torch.cuda.OutOfMemoryError: CUDA out of memory."],
            },
          ],
          viewer: { role: "ADMIN", canAct: true },
        },
      },
      ...denied,
    },
  },
  {
    method: "post",
    path: "/v1/admin/deployments/{id}/retry",
    summary:
      "A new deployment from a FAILED one's request, linked by retryOfId (a second call returns the first retry)",
    tag: "admin",
    security: "admin",
    responses: {
      202: deployment("the retry, queued", "QUEUED"),
      200: deployment("the earlier retry", "QUEUED"),
      404: { description: "no such deployment", schema: s.errorSchema },
      409: {
        description:
          "not FAILED; an attempt that resumed it is live (details.liveAttemptId: a retry would run the job on two pods); or its dataset is gone",
        schema: s.errorSchema,
      },
      ...denied,
    },
  },
  {
    method: "post",
    path: "/v1/admin/deployments/{id}/cancel",
    summary: "Cancel any user's deployment; its pod is terminated",
    tag: "admin",
    security: "admin",
    responses: {
      202: deployment("cancelled", "CANCELLED"),
      404: { description: "no such deployment", schema: s.errorSchema },
      ...denied,
    },
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics of the api (Bearer METRICS_TOKEN, or an admin)",
    tag: "admin",
    security: "admin",
    responses: { 200: { description: "Prometheus text format", contentType: "text/plain" }, ...denied },
  },
  {
    method: "get",
    path: "/admin/login",
    summary: "The operators' login page (a browser opening a screen without a session is sent here)",
    tag: "admin",
    security: "none",
    query: z.object({ next: z.enum(["/dashboard/", "/admin/queues/"]).optional() }),
    responses: { 200: { description: "HTML form", contentType: "text/html" } },
  },
  {
    method: "post",
    path: "/admin/login",
    summary:
      "An admin's or operator's API key starts a browser session: the tp_admin cookie (HttpOnly, SameSite=Strict, Secure over HTTPS). Our own origin only",
    tag: "admin",
    security: "none",
    body: loginBody,
    responses: {
      204: { description: "logged in; Set-Cookie: tp_admin" },
      303: { description: "a form: logged in, sent to the dashboard or Bull Board" },
      401: denied[401] as Body,
      403: { description: "from another origin, or a USER's key", schema: s.errorSchema },
    },
  },
  logoutOperation("/admin/logout", "admin"),
  {
    method: "get",
    path: "/dashboard/vendor/chart.js",
    summary: "The dashboard's chart library, served from node_modules (no CDN)",
    tag: "admin",
    security: "admin",
    responses: { 200: { description: "JavaScript", contentType: "text/javascript" }, ...denied },
  },
];
