import { adminPod, call, podBody, startSim, waitFor, type ApiPod } from "./helpers";
import { openLogs } from "./sse";

describe("runpod-sim GET /v2/pods/{id}/logs (Server-Sent Events)", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 50, restartPolicy: "never" });
  });
  afterAll(() => sim.close());

  it("backfills, streams live lines, resumes after Last-Event-ID, and ends when the pod is terminated", async () => {
    const args = `bash -c 'for i in 1 2 3; do echo "line $i"; done; sleep 0.3; echo "line 4"; sleep 30'`;
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ args }))).body;
    const stream = await openLogs(sim.api, pod.id, "?source=container");
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect([stream.headers.get("cache-control"), stream.headers.get("x-accel-buffering")]).toEqual(["no-cache", "no"]);
    expect(stream.headers.get("ratelimit")).toMatch(/^"minute";r=/);
    const third = await stream.until("line 3", (e) => e.data.line === "line 3");
    expect(third.id).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z\/\d{12}$/);
    expect(third.data).toEqual({ ts: expect.stringMatching(/Z$/), source: "container", line: "line 3" });
    await stream.until("line 4 (live)", (e) => e.data.line === "line 4");
    expect(stream.events.map((e) => e.data.line)).toEqual(["line 1", "line 2", "line 3", "line 4"]);
    stream.close();

    const resumed = await openLogs(sim.api, pod.id, "?source=container&tail=0", { "last-event-id": third.id });
    await resumed.until("line 4 after resume", (e) => e.data.line === "line 4");
    expect(resumed.events.map((e) => e.data.line)).toEqual(["line 4"]);
    const tail = await openLogs(sim.api, pod.id, "?source=container&tail=2");
    await tail.until("tail", (e) => e.data.line === "line 4");
    expect(tail.events.map((e) => e.data.line)).toEqual(["line 3", "line 4"]);
    tail.close();

    const system = await openLogs(sim.api, pod.id, "?source=system");
    await system.until("container started", (e) => /^container started/.test(e.data.line));
    expect(system.events.every((e) => e.data.source === "system")).toBe(true);
    expect((await call(sim.api, "DELETE", `/pods/${pod.id}`)).status).toBe(204);
    await resumed.ended;
    await system.ended;
    expect(system.events.at(-1)?.data.line).toBe("pod terminated");
    expect((await call(sim.api, "GET", `/pods/${pod.id}/logs`)).status).toBe(404);
    expect((await call(sim.api, "GET", "/pods/nosuchpod/logs")).status).toBe(404);
    expect((await call(sim.api, "GET", `/pods/${pod.id}/logs?tail=9000`)).status).toBe(404);
  });

  it("an unpullable image goes ERROR, never runs, and says why in the system log", async () => {
    const pod = (
      await call<ApiPod>(sim.api, "POST", "/pods", podBody({ image: "sim/unpullable-x:1.0", args: "sleep 30" }))
    ).body;
    const errored = await waitFor("ERROR", async () => {
      const got = (await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body;
      return got.status === "ERROR" ? got : undefined;
    });
    expect(errored).toMatchObject({ actions: ["start", "terminate"], runtime: null, startedAt: null, cost: 0.69 });
    expect((await adminPod(sim, pod.id)).pid).toBeNull();
    const stream = await openLogs(sim.api, pod.id);
    await stream.until("pull error", (e) => e.data.line.startsWith("failed to pull image"));
    const lines = stream.events.map((e) => e.data.line);
    expect(lines).toContain(
      "Error response from daemon: pull access denied for sim/unpullable-x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    );
    expect(stream.events.every((e) => e.data.source === "system")).toBe(true);
    // an ERROR pod's stream stays open until the pod is terminated
    await call(sim.api, "DELETE", `/pods/${pod.id}`);
    await stream.ended;
    expect(stream.events.at(-1)?.data.line).toBe("pod terminated");
  });

  it("answers 422 for a bad source or tail", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody())).body;
    expect((await call(sim.api, "GET", `/pods/${pod.id}/logs?source=kernel`)).status).toBe(422);
    expect((await call(sim.api, "GET", `/pods/${pod.id}/logs?tail=9000`)).status).toBe(422);
    await call(sim.api, "DELETE", `/pods/${pod.id}`);
  });
});
