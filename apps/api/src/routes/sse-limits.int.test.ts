/**
 * The API's two server-sent-event streams (the timeline, the pod's logs) under the server's limits: a stream
 * outlives API_REQUEST_TIMEOUT_MS and API_IDLE_TIMEOUT_MS while it has nothing to send (security review,
 * finding 5: "SSE streams excepted"), and a stream refused by the cap (429) says when to retry (finding 7).
 */
import {
  createUserWithKey,
  recordEvent,
  TimelineHub,
  type PodLogLine,
  type PodLogQuery,
  type RunPodClient,
} from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { captureLogger } from "../../../../test/support/test-config";
import { sseEvents } from "../../../cli/src/sse";
import { startApi, type RunningApi } from "../start-api";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

const IDLE_MS = 400;
const REQUEST_MS = 1_500;
/** how long a stream stays silent in these tests: past both timeouts */
const SILENCE_MS = REQUEST_MS + 1_000;

let h: ApiHarness;
let hub: TimelineHub;
let api: RunningApi;
let base: string;
/** released by a test: the fake RunPod log stream then sends its second line */
let secondLine: () => void = () => undefined;

/** RunPod's log stream, faked: one line, then nothing until the test says so, then one more, then it waits for the client to go. */
async function* podLogs(_podId: string, query: PodLogQuery): AsyncGenerator<PodLogLine> {
  yield { id: "1", ts: "2026-01-01T00:00:00Z", source: "container", line: "first" } as PodLogLine;
  await new Promise<void>((resolve) => (secondLine = resolve));
  yield { id: "2", ts: "2026-01-01T00:00:01Z", source: "container", line: "second" } as PodLogLine;
  await new Promise<void>((resolve) => query.signal?.addEventListener("abort", () => resolve(), { once: true }));
}

beforeAll(async () => {
  h = await startTestApi({
    env: {
      API_IDLE_TIMEOUT_MS: String(IDLE_MS),
      API_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      API_HEADERS_TIMEOUT_MS: "1000",
      SSE_MAX_STREAMS_PER_USER: "1",
    },
  });
  // the harness's ManualClock never moves: the timeline stream sends no heartbeat, it is really silent
  hub = new TimelineHub(h.db.prisma, () => h.clock.now(), { pollMs: 100 });
  const runpod = { podLogs } as unknown as RunPodClient;
  // as main.ts starts it (server limits applied before listen), with this hub and this RunPod
  api = await startApi(
    { ...h.config, env: { ...h.config.env, API_PORT: 0 } },
    { logger: captureLogger("api-sse").logger, prisma: h.db.prisma, clock: h.clock, timelineHub: hub, runpod },
  );
  base = api.url;
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

async function userWithDeployment(email: string, podId?: string): Promise<{ key: string; deploymentId: string }> {
  const u = await createUserWithKey(h.db.prisma, { email });
  const deploymentId = await insertDeployment(h, u.user.id, (await makeDataset(h.db.prisma, u.user.id)).id);
  if (podId) await h.db.prisma.deployment.update({ where: { id: deploymentId }, data: { podId, status: "RUNNING" } });
  return { key: u.key, deploymentId };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("an SSE stream is not cut by the server's timeouts", () => {
  it("the timeline: silent for longer than API_REQUEST_TIMEOUT_MS and API_IDLE_TIMEOUT_MS, it still delivers the next event", async () => {
    const { key, deploymentId } = await userWithDeployment("timeline@example.com");
    await recordEvent(h.db.prisma, deploymentId, { type: "before" });
    const ctl = new AbortController();
    const events = sseEvents(`${base}/v1/deployments/${deploymentId}/events/stream`, {
      headers: { authorization: `Bearer ${key}` },
      signal: ctl.signal,
    });
    try {
      expect(JSON.parse((await events.next()).value?.data ?? "{}").type).toBe("before");
      await sleep(SILENCE_MS);
      await recordEvent(h.db.prisma, deploymentId, { type: "after" });
      const next = await events.next();
      expect([next.done, JSON.parse(next.value?.data ?? "{}").type]).toEqual([false, "after"]);
    } finally {
      ctl.abort();
    }
  });

  it("the pod's logs (follow=1): silent for longer than both timeouts, the next line still arrives", async () => {
    const { key, deploymentId } = await userWithDeployment("logs@example.com", "pod-sse-1");
    const ctl = new AbortController();
    const lines = sseEvents(`${base}/v1/deployments/${deploymentId}/logs?follow=1`, {
      headers: { authorization: `Bearer ${key}` },
      signal: ctl.signal,
    });
    try {
      expect(JSON.parse((await lines.next()).value?.data ?? "{}").line).toBe("first");
      await sleep(SILENCE_MS);
      secondLine();
      const next = await lines.next();
      expect([next.done, JSON.parse(next.value?.data ?? "{}").line]).toEqual([false, "second"]);
    } finally {
      ctl.abort();
    }
  });
});

describe("the streams' cap (SSE_MAX_STREAMS_PER_USER) answers 429 with Retry-After", () => {
  it("a second timeline stream, and a log stream, of a user at the cap", async () => {
    const { key, deploymentId } = await userWithDeployment("capped@example.com", "pod-sse-2");
    const ctl = new AbortController();
    const headers = { authorization: `Bearer ${key}` };
    try {
      const open = await fetch(`${base}/v1/deployments/${deploymentId}/events/stream`, { headers, signal: ctl.signal });
      expect(open.status).toBe(200);
      for (const path of [
        `/v1/deployments/${deploymentId}/events/stream`,
        `/v1/deployments/${deploymentId}/logs?follow=1`,
      ]) {
        const refused = await fetch(`${base}${path}`, { headers });
        expect([path, refused.status]).toEqual([path, 429]);
        expect(await refused.json()).toEqual({
          error: { code: "RATE_LIMITED", message: expect.any(String), details: { limit: 1, scope: "user" } },
        });
        expect([path, refused.headers.get("retry-after")]).toEqual([path, expect.stringMatching(/^[1-9][0-9]*$/)]);
      }
    } finally {
      ctl.abort();
    }
  });
});
