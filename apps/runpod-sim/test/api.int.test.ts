import { KEY, call, podBody, startSim, waitFor, type ApiPod, type Problem } from "./helpers";

const POD_FIELDS = [
  "id",
  "name",
  "status",
  "actions",
  "image",
  "args",
  "disk",
  "mounts",
  "ports",
  "env",
  "registry",
  "cloud",
  "dataCenterId",
  "cudaVersion",
  "ssh",
  "template",
  "cost",
  "locked",
  "runtime",
  "createdAt",
  "startedAt",
  "globalNetworking",
];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe("runpod-sim REST v2: pods", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 400 });
  });
  afterAll(() => sim.close());
  afterEach(async () => {
    await call(sim.url, "POST", "/admin/reset", undefined, null);
  });

  it("creates a pod from a nested body (201) with every field the Pod schema requires", async () => {
    const body = podBody(
      {
        name: "one",
        env: { A: "1" },
        disk: 40,
        ports: ["8888/http", "22/tcp"],
        mounts: { persistent: { size: 20, path: "/workspace" } },
      },
      "NVIDIA GeForce RTX 4090",
      2,
    );
    const created = await call<ApiPod>(sim.api, "POST", "/pods", body);
    expect(created.status).toBe(201);
    const pod = created.body;
    for (const field of POD_FIELDS) expect(pod).toHaveProperty(field);
    expect(pod).toMatchObject({
      name: "one",
      status: "PROVISIONING",
      actions: ["stop", "terminate"],
      image: body.image,
      args: "",
      disk: 40,
      env: { A: "1" },
      ports: ["8888/http", "22/tcp"],
      mounts: { persistent: { size: 20, path: "/workspace" } },
      registry: null,
      gpu: { id: "NVIDIA GeForce RTX 4090", count: 2 },
      cloud: "SECURE",
      cost: 1.38,
      template: null,
      locked: false,
      runtime: null,
      startedAt: null,
      globalNetworking: { enabled: false },
    });
    expect(pod.id).toMatch(/^[a-z0-9]{14}$/);
    expect(pod.createdAt).toMatch(RFC3339);
    expect(pod.ssh).toMatchObject({ proxy: { host: "ssh.runpod.io", port: 22 }, direct: null });
    const got = await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: pod.id, name: "one" });
  });

  it("moves PROVISIONING → STARTING → RUNNING, then reports runtime and startedAt", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ ports: ["22/tcp"] }))).body;
    const seen: string[] = [pod.status];
    const running = await waitFor("RUNNING", async () => {
      const now = (await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body;
      if (seen.at(-1) !== now.status) seen.push(now.status);
      return now.status === "RUNNING" ? now : undefined;
    });
    expect(seen).toEqual(["PROVISIONING", "STARTING", "RUNNING"]);
    expect(running.actions).toEqual(["stop", "restart", "terminate"]);
    expect(running.startedAt).toMatch(RFC3339);
    expect(running.runtime).toEqual({
      uptime: expect.any(Number),
      ports: [{ private: 22, public: expect.any(Number), type: "tcp", ip: expect.any(String) }],
    });
    expect(running.ssh).toMatchObject({ direct: { username: "root", port: expect.any(Number) } });
  });

  it("lists live pods wrapped as {pods}; terminated pods are gone from list and get", async () => {
    const a = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "list-a" }))).body;
    const b = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "list-b" }, "NVIDIA A40"))).body;
    const listed = await call<{ pods: ApiPod[] }>(sim.api, "GET", "/pods?includeClusterPods=false");
    expect(listed.status).toBe(200);
    expect(listed.body.pods.map((p) => p.id).sort()).toEqual([a.id, b.id].sort());
    const del = await call(sim.api, "DELETE", `/pods/${a.id}`);
    expect([del.status, del.text]).toEqual([204, ""]);
    expect((await call<{ pods: ApiPod[] }>(sim.api, "GET", "/pods")).body.pods.map((p) => p.id)).toEqual([b.id]);
    const gone = await call<Problem>(sim.api, "GET", `/pods/${a.id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get("content-type")).toBe("application/problem+json");
    expect(gone.body).toEqual({ title: "Not Found", status: 404, detail: expect.stringContaining(a.id) });
    expect((await call(sim.api, "DELETE", `/pods/${a.id}`)).status).toBe(404);
  });

  it("applies actions: stop → EXITED (cost 0), start → back to RUNNING, restart, terminate (204); 409 for an invalid transition", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody())).body;
    const act = (action: unknown) => call<ApiPod & Problem>(sim.api, "POST", `/pods/${pod.id}/action`, { action });
    const early = await act("restart");
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ title: "Conflict", status: 409 });
    await waitFor(
      "RUNNING",
      async () => (await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body.status === "RUNNING",
    );
    expect((await act("start")).status).toBe(409);
    const stopped = await act("stop");
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ status: "EXITED", cost: 0, runtime: null, actions: ["start", "terminate"] });
    const started = await act("start");
    expect([started.status, started.body.status]).toEqual([200, "PROVISIONING"]);
    await waitFor(
      "RUNNING again",
      async () => (await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body.status === "RUNNING",
    );
    const restarted = await act("restart");
    expect([restarted.status, restarted.body.status]).toEqual([200, "STARTING"]);
    const bad = await act("reboot");
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([expect.stringContaining("action")]);
    const terminated = await act("terminate");
    expect([terminated.status, terminated.text]).toEqual([204, ""]);
    expect((await act("start")).status).toBe(404);
  });

  it("answers 401 as problem+json without a key or with a wrong one", async () => {
    const none = await call<Problem>(sim.api, "GET", "/pods", undefined, null);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ title: "Unauthorized", status: 401, detail: "missing bearer token" });
    const wrong = await call<Problem>(sim.api, "GET", "/pods", undefined, `${KEY}-nope`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("content-type")).toBe("application/problem+json");
  });

  it("answers /v1 with 404 (retired), PATCH with 405 + Allow, and unknown /v2 paths with 404", async () => {
    const v1 = await call<Problem>(sim.url, "GET", "/v1/pods");
    expect(v1.status).toBe(404);
    expect(v1.body.detail).toMatch(/v1 was retired/);
    const patch = await call<Problem>(sim.api, "PATCH", "/pods/abc", { name: "x" });
    expect(patch.status).toBe(405);
    expect(patch.headers.get("allow")).toBe("GET, DELETE");
    expect(patch.body.title).toBe("Method Not Allowed");
    expect((await call(sim.api, "GET", "/templates")).status).toBe(404);
  });
});
