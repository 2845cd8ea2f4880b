import { createUserWithKey, recordEvent, transition } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { sseEvents } from "../../../cli/src/sse";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let key: string;
let deploymentId: string;

beforeAll(async () => {
  h = await startTestApi({ env: { SSE_MAX_STREAMS_PER_USER: "2" } });
  const u = await createUserWithKey(h.db.prisma, { email: "alice@example.com" });
  key = u.key;
  deploymentId = await insertDeployment(h, u.user.id, (await makeDataset(h.db.prisma, u.user.id)).id);
  for (const type of ["submitted", "progress", "log"])
    await recordEvent(h.db.prisma, deploymentId, { type, data: { n: type } });
});
afterAll(async () => {
  await h?.close();
});

const url = (id = deploymentId, query = "") => `${h.url}/v1/deployments/${id}/events/stream${query}`;
const auth = () => ({ authorization: `Bearer ${key}` });

/** Reads events until `stop` says so; aborts the stream afterwards. */
async function read(opts: {
  lastEventId?: string;
  query?: string;
  stop: (seen: Array<{ id?: string; event?: string; data: string }>) => boolean;
  onFirst?: () => Promise<void>;
}) {
  const ctl = new AbortController();
  const seen: Array<{ id?: string; event?: string; data: string }> = [];
  try {
    for await (const e of sseEvents(url(deploymentId, opts.query), {
      headers: auth(),
      lastEventId: opts.lastEventId,
      signal: ctl.signal,
    })) {
      seen.push({ id: e.id, event: e.event, data: e.data });
      if (seen.length === 1) await opts.onFirst?.();
      if (opts.stop(seen)) break;
    }
  } finally {
    ctl.abort();
  }
  return seen;
}

describe("GET /v1/deployments/:id/events/stream", () => {
  let ids: string[] = [];

  it("replays the timeline from the start, each event with its row id", async () => {
    const seen = await read({ stop: (s) => s.length === 3 });
    expect(seen.map((e) => JSON.parse(e.data).type)).toEqual(["submitted", "progress", "log"]);
    ids = seen.map((e) => e.id ?? "");
    expect(seen.map((e) => JSON.parse(e.data).id)).toEqual(ids);
    expect(BigInt(ids[2] ?? 0)).toBeGreaterThan(BigInt(ids[0] ?? 0));
  });

  it("resumes after Last-Event-ID, streams new events, and ends with the deployment once it is finished", async () => {
    const seen = await read({
      lastEventId: ids[1],
      stop: () => false,
      onFirst: async () => {
        await recordEvent(h.db.prisma, deploymentId, { type: "log", data: { lines: ["live line"] } });
        await transition(h.db.prisma, {
          deploymentId,
          to: "CANCELLED",
          event: { type: "cancelled", message: "cancelled by test" },
        });
      },
    });
    // the first event is the one after the resume point; the stream closed by itself after `end`
    expect(seen.map((e) => e.event ?? JSON.parse(e.data).type)).toEqual(["log", "log", "cancelled", "end"]);
    expect(seen[0]?.id).toBe(ids[2]);
    expect(JSON.parse(seen[1]?.data ?? "{}").data).toEqual({ lines: ["live line"] });
    expect(JSON.parse(seen[3]?.data ?? "{}")).toMatchObject({ id: deploymentId, status: "CANCELLED" });
  });

  it("?lastEventId= resumes too (for EventSource, which cannot set headers on its first request)", async () => {
    const seen = await read({ query: `?lastEventId=${ids[2]}`, stop: () => false });
    expect(seen.map((e) => e.event ?? JSON.parse(e.data).type)).toEqual(["log", "cancelled", "end"]);
  });

  it("caps a user's open streams (429, JSON error) and frees a slot when a stream is closed", async () => {
    const existing = await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    const live = await insertDeployment(h, existing.userId, existing.datasetId);
    const open = async () => {
      const ctl = new AbortController();
      const res = await fetch(url(live), { headers: auth(), signal: ctl.signal });
      return { res, ctl };
    };
    const first = await open();
    const second = await open();
    expect([first.res.status, second.res.status]).toEqual([200, 200]);
    const refused = await open();
    expect(refused.res.status).toBe(429);
    expect(await refused.res.json()).toMatchObject({
      error: { code: "RATE_LIMITED", details: { limit: 2, scope: "user" } },
    });
    first.ctl.abort();
    // the slot comes back when the stream's loop sees the close (within one poll)
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const again = await open();
      status = again.res.status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      else again.ctl.abort();
    }
    second.ctl.abort();
    expect(status).toBe(200);
  });

  it("only the owner may stream", async () => {
    const eve = await createUserWithKey(h.db.prisma, { email: "eve@example.com" });
    expect((await fetch(url(), { headers: { authorization: `Bearer ${eve.key}` } })).status).toBe(404);
    expect((await fetch(url())).status).toBe(401);
    expect((await fetch(url("not-a-uuid"), { headers: auth() })).status).toBe(404);
  });
});
