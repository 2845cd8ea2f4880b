import { startSimProcess } from "../../../test/support/sim-process";
import { alive, call, podBody, waitFor, type AdminPod, type ApiPod } from "./helpers";

describe("runpod-sim as a process (test/support/sim-process.ts)", () => {
  it("starts on a random port, serves /v2 and /admin, and kills its pods on stop (SIGTERM)", async () => {
    const sim = await startSimProcess({
      SIM_API_KEY: "proc-key",
      SIM_BOOT_DELAY_MS: "0",
      SIM_CAPACITY: "1",
      SIM_QUOTA: '{"minute":60}',
    });
    try {
      expect(sim.apiUrl).toBe(`${sim.url}/v2`);
      expect((await call(sim.apiUrl, "GET", "/pods", undefined, "wrong")).status).toBe(401);
      const pod = await call<ApiPod>(sim.apiUrl, "POST", "/pods", podBody({ args: "sleep 60" }), "proc-key");
      expect(pod.status).toBe(201);
      expect(pod.headers.get("ratelimit-policy")).toMatch(/^"minute";q=60;w=60, /);
      expect((await call(sim.apiUrl, "POST", "/pods", podBody(), "proc-key")).status).toBe(400);
      const pid = await waitFor("container pid", async () => {
        const pods = (await (await sim.admin("/admin/pods")).json()) as AdminPod[];
        return pods[0]?.pid ?? undefined;
      });
      expect(alive(pid)).toBe(true);
      await sim.stop();
      expect(alive(pid)).toBe(false);
    } finally {
      await sim.stop();
    }
  });

  it("fails clearly on a bad setting", async () => {
    await expect(startSimProcess({ SIM_RESTART_POLICY: "sometimes" })).rejects.toThrow(/SIM_RESTART_POLICY/);
    await expect(startSimProcess({ SIM_QUOTA: '{"minute":"lots"}' })).rejects.toThrow(/quota\.minute/);
  });
});
