/**
 * The pod's phase reports over HTTP: POST /v1/runs/:id/events (a repeat acknowledged and not applied), the
 * deployment's `phase` and `phases` in GET /v1/deployments/:id, and the `live` frames of the event stream.
 */
import { createUserWithKey, mintRunToken } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { sseEvents } from "../../../cli/src/sse";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { deploymentWithEventsSchema } from "../openapi/response-schemas";

let h: ApiHarness;
let key: string;
let userId: string;
let datasetId: string;

beforeAll(async () => {
  h = await startTestApi();
  const u = await createUserWithKey(h.db.prisma, { email: "alice@example.com" });
  key = u.key;
  userId = u.user.id;
  datasetId = (await makeDataset(h.db.prisma, userId)).id;
});
afterAll(async () => {
  await h?.close();
});

async function runningDeployment(): Promise<{ id: string; token: string }> {
  const id = await insertDeployment(h, userId, datasetId);
  await h.db.prisma.deployment.update({ where: { id }, data: { status: "RUNNING" } });
  const { token } = await mintRunToken({ prisma: h.db.prisma, clock: h.clock, config: h.config }, { deploymentId: id });
  return { id, token };
}

const post = async (d: { id: string; token: string }, body: unknown) => {
  const res = await fetch(`${h.url}/v1/runs/${d.id}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${d.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
};
const get = async (id: string) =>
  (await fetch(`${h.url}/v1/deployments/${id}`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<
    Record<string, unknown>
  >;

describe("phases over HTTP", () => {
  it("a repeated event is 202 and says it changed nothing; the deployment shows its phase and its phase times", async () => {
    const d = await runningDeployment();
    const started = { type: "phase", seq: 1, phase: "setup", state: "started" };
    expect(await post(d, started)).toEqual({ status: 202, body: { ok: true } });
    expect(await post(d, started)).toEqual({ status: 202, body: { ok: true, applied: false } });
    h.clock.advance(2_000);
    await post(d, { type: "phase", seq: 2, phase: "setup", state: "ended", ok: true });
    await post(d, { type: "phase", seq: 3, phase: "tokenize", state: "started", total: 200_000, unit: "rows" });
    await post(d, { type: "phase", seq: 4, phase: "tokenize", state: "progress", done: 40_000 });
    expect(await post(d, { type: "phase", seq: 5, phase: "nope", state: "ended" })).toMatchObject({ status: 400 });

    const view = await get(d.id);
    expect(deploymentWithEventsSchema.safeParse(view).error).toBeUndefined();
    expect(view.phase).toEqual({
      name: "tokenize",
      state: "progress",
      done: 40_000,
      total: 200_000,
      unit: "rows",
      startedAt: h.clock.now().toISOString(),
    });
    expect(view.phases).toEqual([{ name: "setup", seconds: 2, ok: true }]);
    expect((view.events as Array<{ type: string }>).map((e) => e.type)).toEqual([
      "phase_started",
      "phase_ended",
      "phase_started",
    ]);
  });

  it("the event stream sends the phase's progress as `live` frames (a phase's progress writes no row)", async () => {
    const d = await runningDeployment();
    await post(d, { type: "phase", seq: 1, phase: "model_download", state: "started", total: 16e9, unit: "bytes" });
    const ctl = new AbortController();
    const seen: Array<{ event?: string; data: string }> = [];
    let done = 0;
    try {
      for await (const e of sseEvents(`${h.url}/v1/deployments/${d.id}/events/stream`, {
        headers: { authorization: `Bearer ${key}` },
        signal: ctl.signal,
      })) {
        seen.push({ event: e.event, data: e.data });
        const live = e.event === "live" ? (JSON.parse(e.data) as { phase: { done: number | null } }) : null;
        if (live?.phase.done === 16e9) break;
        // each frame seen: the next report (the stream reads every 400 ms)
        if (done < 16e9) {
          done += 8e9;
          await post(d, { type: "phase", seq: done / 8e9 + 1, phase: "model_download", state: "progress", done });
        }
      }
    } finally {
      ctl.abort();
    }
    expect(JSON.parse(seen[0]?.data ?? "{}")).toMatchObject({ type: "phase_started" });
    const frames = seen.filter((e) => e.event === "live").map((e) => JSON.parse(e.data));
    expect(frames.at(-1)).toMatchObject({
      status: "RUNNING",
      phase: { name: "model_download", state: "progress", done: 16e9, total: 16e9, unit: "bytes" },
    });
    // a frame only when something changed
    expect(new Set(frames.map((f) => JSON.stringify(f))).size).toBe(frames.length);
  }, 20_000);
});
