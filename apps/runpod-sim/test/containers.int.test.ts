import { readFileSync } from "node:fs";
import path from "node:path";
import { adminPod, alive, call, podBody, sleep, startSim, waitFor, type ApiPod } from "./helpers";

describe("runpod-sim containers: boot, run, restart, bill, kill", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  beforeAll(async () => {
    sim = await startSim({ bootDelayMs: 100, restartDelayMs: 50 });
  });
  afterAll(() => sim.close());

  it("runs the start command after the boot delay, in the pod's work folder, with the pod's env and RUNPOD_*", async () => {
    const script =
      'echo "$RUNPOD_POD_ID|$RUNPOD_GPU_COUNT|$MY_VAR|$PWD|$(command -v python)" > "${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}/env.txt"; nvidia-smi -L >> env.txt; sleep 30';
    const pod = (
      await call<ApiPod>(
        sim.api,
        "POST",
        "/pods",
        podBody(
          { env: { MY_VAR: "hello" }, args: JSON.stringify({ entrypoint: ["bash", "-c"], cmd: [script] }) },
          "NVIDIA GeForce RTX 4090",
          2,
        ),
      )
    ).body;
    expect((await adminPod(sim, pod.id)).containerState).toBe("booting");
    const admin = await waitFor("env.txt", async () => {
      const a = await adminPod(sim, pod.id);
      try {
        const text = readFileSync(path.join(a.workDir, "env.txt"), "utf8");
        return text.includes("GPU 1:") ? { a, text } : undefined;
      } catch {
        return undefined;
      }
    });
    const [first, ...gpus] = admin.text.trim().split("\n");
    const [id, count, myVar, cwd, python] = (first ?? "").split("|");
    expect({ id, count, myVar, cwd }).toEqual({ id: pod.id, count: "2", myVar: "hello", cwd: admin.a.workDir });
    expect(python).toBe(path.resolve(__dirname, "..", "bin", "python"));
    expect(gpus).toEqual([
      expect.stringMatching(/^GPU 0: NVIDIA GeForce RTX 4090/),
      expect.stringMatching(/^GPU 1: NVIDIA GeForce RTX 4090/),
    ]);
    expect(admin.a.status).toBe("RUNNING");
    expect(admin.a.command).toEqual(["bash", "-c", script]);
    const got = (await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body;
    expect(got.startedAt).toEqual(expect.any(String));

    // DELETE kills the whole process group (bash and its sleep)
    const pid = admin.a.pid!;
    expect(alive(pid)).toBe(true);
    expect((await call(sim.api, "DELETE", `/pods/${pod.id}`)).status).toBe(204);
    expect(alive(pid)).toBe(false);
    expect((await adminPod(sim, pod.id)).status).toBe("TERMINATED");
  });

  it("restarts a failing start command, keeps billing until DELETE, then bills no more", async () => {
    const pod = (
      await call<ApiPod>(
        sim.api,
        "POST",
        "/pods",
        podBody({ args: "bash -c 'echo failing; exit 1'" }, "NVIDIA H100 80GB HBM3"),
      )
    ).body;
    const restarted = await waitFor("two restarts", async () => {
      const a = await adminPod(sim, pod.id);
      return a.restarts >= 2 ? a : undefined;
    });
    expect(restarted.lastExitCode).toBe(1);
    expect(restarted.status).toBe("RUNNING");
    expect((await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body.status).toBe("RUNNING");
    const costBefore = (await adminPod(sim, pod.id)).accruedCostMicros;
    await sleep(1100);
    const costLater = (await adminPod(sim, pod.id)).accruedCostMicros;
    expect(costLater).toBeGreaterThan(costBefore);

    expect((await call(sim.api, "DELETE", `/pods/${pod.id}`)).status).toBe(204);
    const atDelete = await adminPod(sim, pod.id);
    await sleep(1100);
    const afterwards = await adminPod(sim, pod.id);
    expect(afterwards.accruedCostMicros).toBe(atDelete.accruedCostMicros);
    expect(afterwards.billedSeconds).toBe(atDelete.billedSeconds);
    // 2.99 $/h is 830.56 micro-dollars a second
    expect(atDelete.accruedCostMicros).toBe(Math.round((atDelete.billedSeconds * 2_990_000) / 3600));
    const restarts = afterwards.restarts;
    await sleep(150);
    expect((await adminPod(sim, pod.id)).restarts).toBe(restarts);
    const logs = await call<string>(sim.url, "GET", `/admin/pods/${pod.id}/logs`, undefined, null);
    expect(logs.text).toMatch(/failing[\s\S]*exited with code 1[\s\S]*failing/);
  });

  it("with restartPolicy never, an exited container leaves the pod EXITED (cost 0 in the view) while the meter keeps billing", async () => {
    expect(
      (await call(sim.url, "PATCH", "/admin/config", { restartPolicy: "never", bootDelayMs: 0 }, null)).status,
    ).toBe(200);
    try {
      const pod = (
        await call<ApiPod>(
          sim.api,
          "POST",
          "/pods",
          podBody({ args: JSON.stringify({ entrypoint: ["bash", "-c"], cmd: ["exit 7"] }) }),
        )
      ).body;
      const exited = await waitFor("exit", async () => {
        const a = await adminPod(sim, pod.id);
        return a.status === "EXITED" ? a : undefined;
      });
      expect(exited).toMatchObject({ lastExitCode: 7, restarts: 0, containerState: "exited", terminatedAt: null });
      const view = (await call<ApiPod>(sim.api, "GET", `/pods/${pod.id}`)).body;
      expect([view.status, view.cost, view.actions]).toEqual(["EXITED", 0, ["start", "terminate"]]);
      await sleep(1100);
      expect((await adminPod(sim, pod.id)).billedSeconds).toBeGreaterThan(exited.billedSeconds);
      await call(sim.api, "DELETE", `/pods/${pod.id}`);
    } finally {
      await call(sim.url, "PATCH", "/admin/config", { restartPolicy: "always", bootDelayMs: 100 }, null);
    }
  });

  it("runs args in the shell-words form (quotes and escapes) and the JSON form as the same argv", async () => {
    const shell = `printf '%s|' "two words" it\\'s 'a "b"'`;
    const json = JSON.stringify({ entrypoint: ["printf", "%s|"], cmd: ["two words", "it's", 'a "b"'] });
    const outputs: string[] = [];
    for (const args of [shell, json]) {
      const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ args }))).body;
      await waitFor("printf exit", async () => (await adminPod(sim, pod.id)).lastExitCode === 0);
      expect((await adminPod(sim, pod.id)).command).toEqual(["printf", "%s|", "two words", "it's", 'a "b"']);
      outputs.push((await call(sim.url, "GET", `/admin/pods/${pod.id}/logs`, undefined, null)).text);
      await call(sim.api, "DELETE", `/pods/${pod.id}`);
    }
    for (const text of outputs) expect(text).toContain('two words|it\'s|a "b"|');
  });

  it("idles without a command until terminated, and a missing executable exits 127", async () => {
    const idle = (await call<ApiPod>(sim.api, "POST", "/pods", podBody())).body;
    const missing = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ args: "no-such-binary-here" }))).body;
    await waitFor("missing binary exit", async () => (await adminPod(sim, missing.id)).lastExitCode === 127);
    expect((await adminPod(sim, idle.id)).containerState).toBe("running");
    const logs = await call(sim.url, "GET", `/admin/pods/${missing.id}/logs`, undefined, null);
    expect(logs.text).toContain("executable file not found");
    for (const id of [idle.id, missing.id]) expect((await call(sim.api, "DELETE", `/pods/${id}`)).status).toBe(204);
  });

  it("POST /admin/reset kills every pod and forgets them", async () => {
    const pod = (await call<ApiPod>(sim.api, "POST", "/pods", podBody({ args: "sleep 30" }))).body;
    const pid = await waitFor("pid", async () => (await adminPod(sim, pod.id)).pid ?? undefined);
    expect((await call(sim.url, "POST", "/admin/reset", undefined, null)).status).toBe(200);
    expect(alive(pid)).toBe(false);
    expect((await call(sim.url, "GET", "/admin/pods", undefined, null)).body).toEqual([]);
  });
});
