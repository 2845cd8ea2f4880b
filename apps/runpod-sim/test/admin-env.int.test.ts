import { createHash } from "node:crypto";
import { call, podBody, startSim, type ApiPod } from "./helpers";

// The simulator's /admin routes have no auth, and a pod's env holds users' decrypted secrets (HF_TOKEN, W&B keys):
// they show the env's names and each value's sha256, never a value. (/v2, behind the API key, shows the env as
// RunPod does.)
describe("runpod-sim /admin: a pod's env without its values", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 60_000 });
  });
  afterAll(() => sim.close());

  it("lists names and sha256s in /admin/pods and /admin/pods/{id}; the value appears in neither", async () => {
    const secret = "hf_secretvalue_0123456789";
    const pod = (
      await call<ApiPod>(sim.api, "POST", "/pods", podBody({ env: { HF_TOKEN: secret, PLAIN: "x" } }, "NVIDIA A40"))
    ).body;
    const one = await call<Record<string, unknown>>(sim.url, "GET", `/admin/pods/${pod.id}`, undefined, null);
    const all = await call<Array<Record<string, unknown>>>(sim.url, "GET", "/admin/pods", undefined, null);
    expect(one.status).toBe(200);
    for (const shown of [one.body, all.body.find((p) => p.id === pod.id)]) {
      expect(JSON.stringify(shown)).not.toContain(secret);
      expect(shown).not.toHaveProperty("env");
      expect(shown?.envNames).toEqual(["HF_TOKEN", "PLAIN"]);
      expect((shown?.envSha256 as Record<string, string>).HF_TOKEN).toBe(
        createHash("sha256").update(secret).digest("hex"),
      );
    }
    expect((await call<ApiPod & { env: Record<string, string> }>(sim.api, "GET", `/pods/${pod.id}`)).body.env).toEqual({
      HF_TOKEN: secret,
      PLAIN: "x",
    });
  });
});
