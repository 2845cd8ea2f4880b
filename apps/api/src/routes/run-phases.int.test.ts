/**
 * The pod's phase reports over HTTP: POST /v1/runs/:id/events (a repeat acknowledged and not applied), the
 * deployment's `phase` and `phases` in GET /v1/deployments/:id, and the `live` frames of the event stream.
 */
import { sseEvents } from "../../../cli/src/sse";
import { useRunEventsApi } from "../../../../test/support/run-events-api";
import { deploymentWithEventsSchema } from "../openapi/response-schemas";

const api = useRunEventsApi();
const { runningDeployment, post, get } = api;

describe("phases over HTTP", () => {
  it("a repeated event is 202 and says it changed nothing; the deployment shows its phase and its phase times", async () => {
    const d = await runningDeployment();
    const started = { type: "phase", seq: 1, phase: "setup", state: "started" };
    expect(await post(d, started)).toEqual({ status: 202, body: { ok: true } });
    expect(await post(d, started)).toEqual({ status: 202, body: { ok: true, applied: false } });
    api.h.clock.advance(2_000);
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
      startedAt: api.h.clock.now().toISOString(),
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
      for await (const e of sseEvents(`${api.h.url}/v1/deployments/${d.id}/events/stream`, {
        headers: { authorization: `Bearer ${api.key}` },
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
