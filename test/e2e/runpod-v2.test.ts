import { makeDeployment } from "../factories";
import { startSystem, type System } from "../support/system";
import { TestClient, until, type Json } from "./support/client";

// The pipeline on the v2 simulator: one create per GPU candidate, 402, an image that cannot be pulled,
// a silent exit, the pod's logs through our API, and RunPod's own bill recorded beside our cost.
let sys: System;
let user: TestClient;

const simConfig = async (patch: Record<string, unknown>): Promise<void> => {
  const res = await sys.sim.admin("/admin/config", {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  if (res.status !== 200) throw new Error(`sim config ${JSON.stringify(patch)}: ${res.status} ${await res.text()}`);
};
const simStats = async (): Promise<Json> => (await (await sys.sim.admin("/admin/stats")).json()) as Json;

beforeAll(async () => {
  sys = await startSystem({
    env: {
      MONITOR_INTERVAL_MS: "500",
      BILLING_DELAY_MS: "300",
      BILLING_RETRY_DELAY_MS: "300",
      RUNPOD_CATALOG_TTL_SECONDS: "1",
    },
  });
  user = await TestClient.create(sys, "v2@example.com");
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

describe("RunPod API v2, end to end on the simulator", () => {
  it("a first GPU type the stale catalog calls available but that has no capacity: one create each, the run lands on the second", async () => {
    await simConfig({ capacity: { "NVIDIA H200": 0 }, catalogAvailability: { "NVIDIA H200": "HIGH" } });
    const before = await simStats();
    const sub = await user.submit({ steps: 3 }, { gpuTypeIds: ["NVIDIA H200", "NVIDIA A40"] });
    expect(sub.status).toBe(202);
    const d = await user.settled(sub.body.id);
    expect(d).toMatchObject({ status: "SUCCEEDED", pod: { gpuTypeId: "NVIDIA A40" } });
    expect(d.pod.dataCenterId).toEqual(expect.any(String));
    const after = await simStats();
    const delta = (gpu: string, status: string): number =>
      (after.creates?.[gpu]?.[status] ?? 0) - (before.creates?.[gpu]?.[status] ?? 0);
    expect([delta("NVIDIA H200", "400"), delta("NVIDIA A40", "201")]).toEqual([1, 1]);
    const created = (d.events as Json[]).find((e) => e.type === "pod_created");
    expect(created?.data.refused).toEqual([expect.objectContaining({ gpuTypeId: "NVIDIA H200", status: 400 })]);
    await simConfig({ capacity: { "NVIDIA H200": null }, catalogAvailability: { "NVIDIA H200": null } });
  });

  it("402 fails the deployment at once with INSUFFICIENT_BALANCE, and no other candidate is tried", async () => {
    await simConfig({ balanceUsd: 0 });
    try {
      const before = await simStats();
      const sub = await user.submit({ steps: 3 }, { gpuTypeIds: ["NVIDIA A40", "NVIDIA GeForce RTX 4090"] });
      const d = await user.settled(sub.body.id);
      expect(d).toMatchObject({ status: "FAILED", failureReason: "INSUFFICIENT_BALANCE", pod: { id: null } });
      const after = await simStats();
      expect((after.creates?.["NVIDIA A40"]?.["402"] ?? 0) - (before.creates?.["NVIDIA A40"]?.["402"] ?? 0)).toBe(1);
      expect(after.creates?.["NVIDIA GeForce RTX 4090"]?.["402"] ?? 0).toBe(
        before.creates?.["NVIDIA GeForce RTX 4090"]?.["402"] ?? 0,
      );
      expect(sys.logs.some((l) => l.includes("balance is too low") && l.includes('"level":"error"'))).toBe(true);
    } finally {
      await simConfig({ balanceUsd: null });
    }
  });

  it("an image that cannot be pulled fails with POD_ERROR and RunPod's own system line in the failure's log lines", async () => {
    const sub = await user.submit({ steps: 3 }, { image: "sim/unpullable-trainer:1.0" });
    const d = await user.settled(sub.body.id, 30_000);
    expect(d).toMatchObject({ status: "FAILED", failureReason: "POD_ERROR" });
    expect(d.failureMessage).toMatch(/\[system\] .*(pull access denied|failed to pull image)/);
    expect((d.events as Json[]).some((e) => e.type === "runpod_logs" && (e.data.lines as string[]).length > 0)).toBe(
      true,
    );
  });

  it("a container that exits without a report keeps its last container lines", async () => {
    await simConfig({ restartPolicy: "never" });
    try {
      const owner = await sys.db.prisma.user.findFirstOrThrow({ where: { email: "v2@example.com" } });
      const d = await makeDeployment(sys.db.prisma, { userId: owner.id, datasetId: user.datasetId });
      const pod = await sys.worker.runpod.createPod({
        name: `${sys.config.env.POD_NAME_PREFIX}${d.id}`,
        image: "img",
        gpu: { id: "NVIDIA A40", count: 1 },
        args: `sh -c 'echo "loading shards"; echo "CUDA out of memory on rank 0"; exit 3'`,
      });
      const at = new Date();
      await sys.db.prisma.deployment.update({
        where: { id: d.id },
        data: {
          status: "RUNNING",
          podId: pod.id,
          provisioningAt: at,
          podCreatedAt: at,
          runningAt: at,
          lastHeartbeatAt: at,
          costPerHrMicros: 400_000n,
        },
      });
      // the worker's own monitor sees EXITED, fails it, and its terminate job keeps RunPod's lines first
      const row = await until(
        "closed",
        async () => {
          const r = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
          return r.podTerminatedAt !== null ? r : null;
        },
        20_000,
      );
      expect(row).toMatchObject({ status: "FAILED", failureReason: "TRAINING_FAILED" });
      expect(row.failureMessage).toContain("[container] CUDA out of memory on rank 0");
    } finally {
      await simConfig({ restartPolicy: "always" });
    }
  });

  it("the owner reads the pod's own log lines through GET /v1/deployments/:id/logs; others get 404", async () => {
    const sub = await user.submit({ steps: 1000, sim_step_ms: 200 });
    try {
      await until("running", async () => (await user.get(sub.body.id)).status === "RUNNING");
      const text = await until("the trainer logged", async () => {
        const res = await fetch(`${sys.apiUrl}/v1/deployments/${sub.body.id}/logs?tail=50`, {
          headers: { authorization: `Bearer ${user.key}` },
        });
        const body = await res.text();
        return res.status === 200 && body.includes('"source":"container"') ? body : null;
      });
      expect(text).toMatch(/^id: \S+\ndata: \{"ts":"[^"]+","source":"(container|system)","line":/m);
      expect(text.trimEnd().endsWith("event: end\ndata: {}")).toBe(true);
      const stranger = await TestClient.create(sys, "v2-stranger@example.com");
      expect((await stranger.api("GET", `/v1/deployments/${sub.body.id}/logs`)).status).toBe(404);
    } finally {
      await user.api("POST", `/v1/deployments/${sub.body.id}/cancel`);
    }
    expect((await user.settled(sub.body.id)).status).toBe("CANCELLED");
  }, 60_000);

  it("a create whose answer is lost (RunPod created the pod, then answered 500) is adopted by name, billed from RunPod's createdAt", async () => {
    await simConfig({ faults: { createThenFail: 1 } });
    let id: string;
    try {
      const sub = await user.submit({ steps: 2 }, { gpuTypeIds: ["NVIDIA A40"] });
      id = sub.body.id;
      await until(
        "adopted",
        async () => ((await user.get(id)).events as Json[]).some((e) => e.type === "pod_adopted"),
        20_000,
      );
    } finally {
      await simConfig({ faults: { createThenFail: 0 } });
    }
    const d = await user.settled(id);
    // adopted at once, within the attempt whose answer was lost: before the pod's first report
    expect([d.status, (d.events as Json[]).map((e) => e.type).slice(0, 3)]).toEqual([
      "SUCCEEDED",
      ["submitted", "pod_adopted", "running"],
    ]);
    const simPod = (await (await sys.sim.admin(`/admin/pods/${d.pod.id}`)).json()) as Json;
    expect(d.timestamps.podCreatedAt).toBe(simPod.createdAt);
    const micros = (usd: string): number => Math.round(Number(usd) * 1e6);
    const oneSecond = Math.ceil(micros(d.pod.costPerHrUsd) / 3600) + 1;
    expect(Math.abs(micros(d.costUsd) - simPod.accruedCostMicros)).toBeLessThanOrEqual(oneSecond);
    const named = ((await (await sys.sim.admin("/admin/pods")).json()) as Json[]).filter(
      (p) => p.name === `${sys.config.env.POD_NAME_PREFIX}${id}`,
    );
    expect(named).toHaveLength(1);
  }, 40_000);

  it("RunPod's own bill is read after termination and recorded beside our cost, within one second of the price", async () => {
    const sub = await user.submit({ steps: 5 }, { gpuTypeIds: ["NVIDIA A40"] });
    const closed = await user.settled(sub.body.id);
    expect(closed.status).toBe("SUCCEEDED");
    const d = await until(
      "billing recorded",
      async () => {
        const got = await user.get(sub.body.id);
        return got.runpodBill ? got : null;
      },
      20_000,
    );
    const micros = (usd: string): number => Math.round(Number(usd) * 1e6);
    const simPod = (await (await sys.sim.admin(`/admin/pods/${d.pod.id}`)).json()) as Json;
    const oneSecond = Math.ceil(micros(d.pod.costPerHrUsd) / 3600) + 1;
    expect(Math.abs(micros(d.runpodBill.totalUsd) - simPod.accruedCostMicros)).toBeLessThanOrEqual(1);
    expect(Math.abs(micros(d.runpodBill.differenceUsd))).toBeLessThanOrEqual(oneSecond);
    expect((d.events as Json[]).some((e) => e.type === "runpod_billed")).toBe(true);
  });
});
