import { readdirSync } from "node:fs";
import path from "node:path";
import { startSystem, type System } from "../support/system";
import { TestClient, until } from "./support/client";

let sys: System;
let alice: TestClient;
let bob: TestClient;

beforeAll(async () => {
  sys = await startSystem();
  alice = await TestClient.create(sys, "alice@example.com");
  bob = await TestClient.create(sys, "bob@example.com");
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

describe("the deploy pipeline, end to end", () => {
  it("a successful run downloads its dataset, trains, uploads, is terminated at once, and has its cost recorded", async () => {
    const sub = await alice.submit({ steps: 3, sim_step_ms: 50 });
    expect(sub.status).toBe(202);
    const d = await alice.settled(sub.body.id);
    expect(d.status).toBe("SUCCEEDED");
    const types = (d.events as Array<{ type: string }>).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "submitted",
        "pod_created",
        "running",
        "dataset_downloaded",
        "progress",
        "succeeded",
        "pod_terminated",
      ]),
    );
    expect(d.progress.step).toBe(3);
    const pod = await alice.simPod(d.pod.id);
    expect(pod.status).toBe("TERMINATED");
    // recorded cost within two seconds' price of the simulator's own bill
    expect(Number(d.costUsd)).toBeGreaterThan(0);
    expect(Math.abs(Number(d.costUsd) * 1e6 - pod.accruedCostMicros)).toBeLessThanOrEqual(2 * 192 + 1);
    // the pod really fetched the dataset through its single-use token
    const tokens = await sys.db.prisma.datasetDownloadToken.findMany({ where: { deploymentId: d.id } });
    expect(tokens.map((t) => ({ used: t.usedAt !== null, claimed: t.claimedAt !== null }))).toEqual([
      { used: true, claimed: true },
    ]);
    expect(await sys.db.prisma.deploymentEvent.count({ where: { deploymentId: d.id, type: "pod_terminated" } })).toBe(
      1,
    );
    // the artifact folder the trainer wrote was uploaded through the run token
    const uploaded = readdirSync(path.join(sys.config.env.ARTIFACT_DIR, d.id));
    expect(uploaded).toEqual(expect.arrayContaining(["adapter_config.json", "adapter_model.safetensors"]));
    // the run token is revoked at termination
    const run = await sys.db.prisma.runToken.findFirstOrThrow({ where: { deploymentId: d.id } });
    expect(run.revokedAt).not.toBeNull();
  });

  it("a failing run is terminated within 2 s of reporting failure, with exit code and last log lines kept", async () => {
    const sub = await alice.submit({ steps: 5, sim_step_ms: 50, sim_fail_at_step: 2, sim_exit_code: 3 });
    const d = await alice.settled(sub.body.id);
    expect(d.status).toBe("FAILED");
    expect(d.failureReason).toBe("TRAINING_FAILED");
    expect(d.exitCode).toBe(3);
    expect(d.failureMessage).toMatch(/Traceback/);
    const failedAt = new Date(d.timestamps.finishedAt).getTime();
    const terminatedAt = new Date(d.timestamps.podTerminatedAt).getTime();
    process.stdout.write(`failure → pod terminated: ${terminatedAt - failedAt} ms\n`);
    expect(terminatedAt - failedAt).toBeLessThan(2000);
    expect((await alice.simPod(d.pod.id)).status).toBe("TERMINATED");
  });

  it("cancel terminates the pod", async () => {
    const sub = await alice.submit({ steps: 200, sim_step_ms: 100 });
    await until("running", async () => (await alice.get(sub.body.id)).status === "RUNNING");
    const c = await alice.api("POST", `/v1/deployments/${sub.body.id}/cancel`);
    expect(c.status).toBe(202);
    const d = await alice.settled(sub.body.id);
    expect(d.status).toBe("CANCELLED");
    expect((await alice.simPod(d.pod.id)).status).toBe("TERMINATED");
    expect((await alice.api("POST", `/v1/deployments/${sub.body.id}/cancel`)).status).toBe(409);
  });

  it("the same Idempotency-Key returns the same deployment; another user's deployment is 404", async () => {
    const a = await alice.submit({ steps: 1, sim_step_ms: 10 }, {}, { "idempotency-key": "run-42" });
    const b = await alice.submit({ steps: 1, sim_step_ms: 10 }, {}, { "idempotency-key": "run-42" });
    expect(b.body.id).toBe(a.body.id);
    expect(b.status).toBe(200);
    expect((await bob.api("GET", `/v1/deployments/${a.body.id}`)).status).toBe(404);
    expect((await bob.api("POST", `/v1/deployments/${a.body.id}/cancel`)).status).toBe(404);
    expect((await bob.api("GET", "/v1/deployments")).body.items).toHaveLength(0);
    await alice.settled(a.body.id);
    expect(await sys.db.prisma.deployment.count({ where: { idempotencyKey: "run-42" } })).toBe(1);
  });

  it("bad input gets a 4xx JSON error and writes nothing", async () => {
    const before = await sys.db.prisma.deployment.count();
    const r = await alice.api("POST", "/v1/deployments", { datasetId: alice.datasetId, baseModel: "", gpuTypeIds: [] });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("VALIDATION_FAILED");
    const other = await alice.api("POST", "/v1/deployments", {
      datasetId: bob.datasetId,
      baseModel: "m",
      gpuTypeIds: ["NVIDIA A40"],
    });
    expect(other.status).toBe(422);
    expect(other.body.error.details.problems).toEqual([expect.objectContaining({ code: "DATASET_NOT_FOUND" })]);
    expect(await sys.db.prisma.deployment.count()).toBe(before);
  });

  it("no token or key reaches a log line", async () => {
    const tokens = await sys.db.prisma.datasetDownloadToken.count();
    expect(tokens).toBeGreaterThan(0);
    const all = sys.logs.join("\n");
    expect(all).not.toMatch(/tp_(live|ds|run)_[A-Za-z0-9_-]{16,}/);
    expect(all).not.toContain(alice.key);
  });
});
