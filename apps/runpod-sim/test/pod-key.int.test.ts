import { readFileSync } from "node:fs";
import path from "node:path";
import { adminPod, call, podBody, startSim, waitFor, type ApiPod, type Problem } from "./helpers";

describe("runpod-sim pod-scoped RUNPOD_API_KEY", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ quota: { minute: 1000, hour: 3000, day: 50000 } });
  });
  afterAll(() => sim.close());

  it("is in the pod's env; it may read, act on and delete its own pod, and gets 403 for anything else", async () => {
    const args = `bash -c 'echo "$RUNPOD_API_KEY" > "$RUNPOD_VOLUME_MOUNT_PATH/key.txt"; sleep 30'`;
    const own = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "own", args }))).body;
    const other = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ name: "other" }))).body;
    const admin = await adminPod(sim, own.id);
    expect(admin.hasPodApiKey).toBe(true);
    expect(JSON.stringify(admin)).not.toMatch(/rpa_/);
    const podKey = await waitFor("key file", async () => {
      try {
        return readFileSync(path.join(admin.workDir, "key.txt"), "utf8").trim() || undefined;
      } catch {
        return undefined;
      }
    });
    expect(podKey).toMatch(/^rpa_/);

    expect((await call<ApiPod>(sim.api, "GET", `/pods/${own.id}`, undefined, podKey)).body.id).toBe(own.id);
    const denied = [
      await call<Problem>(sim.api, "GET", `/pods/${other.id}`, undefined, podKey),
      await call<Problem>(sim.api, "DELETE", `/pods/${other.id}`, undefined, podKey),
      await call<Problem>(sim.api, "GET", "/pods", undefined, podKey),
      await call<Problem>(sim.api, "POST", "/pods", podBody(), podKey),
      await call<Problem>(sim.api, "GET", "/catalog/gpus", undefined, podKey),
      await call<Problem>(sim.api, "GET", "/billing/pods", undefined, podKey),
    ];
    expect(denied.map((d) => d.status)).toEqual([403, 403, 403, 403, 403, 403]);
    expect(denied[0]?.body).toMatchObject({ title: "Forbidden", status: 403 });
    // it counts against the account's quota: the account key sees the pod key's calls
    const hourLeft = (h: string | null) => Number(/"hour";r=(\d+)/.exec(h ?? "")?.[1]);
    const before = hourLeft((await call(sim.api, "GET", "/pods")).headers.get("ratelimit"));
    await call(sim.api, "GET", `/pods/${own.id}`, undefined, podKey);
    expect(hourLeft((await call(sim.api, "GET", "/pods")).headers.get("ratelimit"))).toBe(before - 2);

    expect((await call(sim.api, "DELETE", `/pods/${own.id}`, undefined, podKey)).status).toBe(204);
    expect((await call(sim.api, "GET", `/pods/${own.id}`)).status).toBe(404);
    expect((await call(sim.api, "GET", `/pods/${other.id}`)).status).toBe(200);
    // a terminated pod's key is dead
    expect((await call(sim.api, "GET", `/pods/${own.id}`, undefined, podKey)).status).toBe(401);
    await call(sim.api, "DELETE", `/pods/${other.id}`);
  });
});
