import { execFile } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { adminPod, call, podBody, startSim, waitFor, type AdminPod, type ApiPod } from "./helpers";

const BIN = path.resolve(__dirname, "..", "bin");

describe("runpod-sim stand-ins: python (trainer) and nvidia-smi, run inside pods", () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  let events: Server;
  let eventsUrl: string;
  const received: Array<{ auth: string | undefined; body: unknown }> = [];

  beforeAll(async () => {
    sim = await startSim({ restartPolicy: "never" });
    events = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString("utf8")));
      req.on("end", () => {
        received.push({ auth: req.headers.authorization, body: JSON.parse(text) as unknown });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => events.listen(0, "127.0.0.1", resolve));
    eventsUrl = `http://127.0.0.1:${(events.address() as AddressInfo).port}/runs/r1/events`;
  });
  afterAll(async () => {
    await sim.close();
    await new Promise((resolve) => events.close(resolve));
  });

  /** A pod that writes a dataset and train.py into its volume, then runs the trainer on them. */
  async function runTrainer(hyperparameters: Record<string, unknown>): Promise<AdminPod> {
    const hp = JSON.stringify(hyperparameters).replace(/'/g, "'\\''");
    const script = [
      'cd "${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}"',
      `printf '%s\\n' '{"prompt":"a","completion":"b"}' '{"prompt":"c","completion":"d"}' > data.jsonl`,
      "touch train.py",
      "python -m pip install -q peft",
      `exec python train.py --dataset data.jsonl --output-dir out --base-model meta-llama/Llama-3.2-1B --hyperparameters '${hp}' --events-url ${eventsUrl}`,
    ].join(" && ");
    const pod = (
      await call<ApiPod>(
        sim.api,
        "POST",
        "/pods",
        podBody({ env: { TRAINPOD_RUN_TOKEN: "tok-123" }, args: JSON.stringify({ cmd: ["bash", "-c", script] }) }),
      )
    ).body;
    return waitFor("trainer exit", async () => {
      const a = await adminPod(sim, pod.id);
      return a.status === "EXITED" ? a : undefined;
    });
  }

  it("trains: prints steps, POSTs progress with the run token, writes its artifacts and exits 0", async () => {
    received.length = 0;
    const pod = await runTrainer({ steps: 3, sim_step_ms: 20 });
    expect(pod.lastExitCode).toBe(0);
    const out = path.join(pod.workDir, "out");
    expect(readdirSync(out).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors", "trainer_state.json"]);
    expect(statSync(path.join(out, "adapter_model.safetensors")).size).toBeGreaterThan(2048);
    expect(JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8"))).toMatchObject({
      base_model_name_or_path: "meta-llama/Llama-3.2-1B",
    });
    expect(JSON.parse(readFileSync(path.join(out, "trainer_state.json"), "utf8"))).toMatchObject({
      global_step: 3,
      num_train_examples: 2,
    });
    expect(received.map((e) => e.body)).toEqual(
      [1, 2, 3].map((step) => ({ type: "progress", step, totalSteps: 3, loss: expect.any(Number) })),
    );
    expect(received.every((e) => e.auth === "Bearer tok-123")).toBe(true);
    const logs = (await call(sim.url, "GET", `/admin/pods/${pod.id}/logs`, undefined, null)).text;
    expect(logs).toMatch(/step 1\/3 loss [\d.]+\n[\s\S]*step 3\/3 loss/);
    await call(sim.api, "DELETE", `/pods/${pod.id}`);
  });

  it("fails at sim_fail_at_step with a traceback and sim_exit_code", async () => {
    received.length = 0;
    const pod = await runTrainer({ steps: 5, sim_step_ms: 10, sim_fail_at_step: 3, sim_exit_code: 42 });
    expect(pod.lastExitCode).toBe(42);
    expect(received.map((e) => (e.body as { step: number }).step)).toEqual([1, 2]);
    const logs = (await call(sim.url, "GET", `/admin/pods/${pod.id}/logs`, undefined, null)).text;
    expect(logs).toContain("Traceback (most recent call last):");
    expect(logs).not.toContain("step 3/5");
    await call(sim.api, "DELETE", `/pods/${pod.id}`);
  });

  it("answers --version, pip and -c, and exits 2 for a missing dataset", async () => {
    const run = promisify(execFile);
    const env = { PATH: `${BIN}:${process.env.PATH ?? ""}` };
    expect((await run(path.join(BIN, "python3"), ["--version"], { env })).stdout).toBe("Python 3.10.12\n");
    expect((await run(path.join(BIN, "python"), ["-m", "pip", "install", "torch"], { env })).stdout).toContain(
      "Requirement already satisfied",
    );
    await expect(run(path.join(BIN, "python"), ["-c", "import torch"], { env })).resolves.toEqual({
      stdout: "",
      stderr: "",
    });
    const missing = run(
      path.join(BIN, "python"),
      [__filename, "--dataset", "/nonexistent/data.jsonl", "--output-dir", "/tmp/x"],
      { env },
    );
    await expect(missing).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("No such file or directory"),
    });
    const smi = await run(path.join(BIN, "nvidia-smi"), [], {
      env: { ...env, SIM_GPU_NAME: "NVIDIA A40", RUNPOD_GPU_COUNT: "1" },
    });
    expect(smi.stdout).toContain("NVIDIA A40");
  });
});
