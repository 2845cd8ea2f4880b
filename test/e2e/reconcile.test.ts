import { randomUUID } from "node:crypto";
import { reconcile, RunPodRestClient, RunPodUnavailableError, type RunPodClient } from "@trainpod/core";
import { startSystem, type System } from "../support/system";
import { TestClient, until } from "./support/client";
import { makeDataset, makeDeployment, makeUser } from "../factories";

let sys: System;
let user: TestClient;
let runpod: RunPodRestClient;

beforeAll(async () => {
  // the schedulers stay out of the way: this file calls reconcile itself
  sys = await startSystem({ env: { RECONCILE_INTERVAL_MS: "3600000" } });
  user = await TestClient.create(sys, "reconcile@example.com");
  runpod = new RunPodRestClient({ baseUrl: sys.sim.apiUrl, apiKey: "k" });
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

const pod = (name: string) => runpod.createPod({ name, image: "img", gpu: { id: "NVIDIA A40", count: 1 } });

describe("nothing left running", () => {
  it("a deployment cancelled while its pod is being created does not leave the pod billing", async () => {
    const slowCreate = { faults: { slow: 1, slowMs: 1500, methods: ["POST"], routes: ["/v2/pods"] } };
    await sys.sim.admin("/admin/config", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(slowCreate),
    });
    try {
      const sub = await user.submit({ steps: 500, sim_step_ms: 100 });
      await new Promise((r) => setTimeout(r, 500)); // the deploy job is now inside POST /pods
      expect((await user.api("POST", `/v1/deployments/${sub.body.id}/cancel`)).status).toBe(202);
      const d = await until("pod recorded and terminated", async () => {
        const row = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id: sub.body.id } });
        return row.podId && row.podTerminatedAt ? row : null;
      });
      expect(d.status).toBe("CANCELLED");
      expect((await user.simPod(d.podId ?? "")).status).toBe("TERMINATED");
    } finally {
      await sys.sim.admin("/admin/config", {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ faults: { slow: 0 } }),
      });
    }
  });
});

describe("reconcile", () => {
  it("run as a job by the worker, it terminates an orphan and counts it in the worker's metrics", async () => {
    const orphan = await pod(`${sys.config.env.POD_NAME_PREFIX}${randomUUID()}`);
    await sys.worker.queues.reconcile.add("reconcile", {});
    await until("orphan terminated", async () => (await user.simPod(orphan.id)).status === "TERMINATED");
    const metric = await until("counted", async () =>
      /trainpod_lifecycle_actions_total\{action="orphan_terminated",reason="",service="worker"\} (\d+)/.exec(
        await sys.worker.metrics.registry.metrics(),
      ),
    );
    expect(Number(metric[1])).toBeGreaterThanOrEqual(1);
  });

  it("terminates pods named with our prefix that no live deployment owns, and leaves others alone", async () => {
    const prefix = sys.config.env.POD_NAME_PREFIX;
    const unknown = await pod(`${prefix}${randomUUID()}`); // e.g. a lost database write
    const notOurs = await pod("someone-elses-notebook");
    const live = await user.submit({ steps: 500, sim_step_ms: 100 });
    await until("running", async () => (await user.get(live.body.id)).status === "RUNNING");
    const livePodId = (await user.get(live.body.id)).pod.id as string;

    const result = await reconcile(sys.deps.lifecycle);
    expect(result.orphansTerminated).toEqual([unknown.id]);
    expect((await user.simPod(unknown.id)).status).toBe("TERMINATED");
    expect((await user.simPod(notOurs.id)).status).not.toBe("TERMINATED");
    expect((await user.simPod(livePodId)).status).not.toBe("TERMINATED");

    await user.api("POST", `/v1/deployments/${live.body.id}/cancel`);
    await user.settled(live.body.id);
    await runpod.terminatePod(notOurs.id);
  });

  it("an orphan of a deployment closed during its create is charged to it, even when the DELETE's answer is lost", async () => {
    // a create whose answer was lost (no pod recorded), then a cancel: reconcile meets the pod by its name
    const owner = await makeUser(sys.db.prisma);
    const dataset = await makeDataset(sys.db.prisma, owner.user.id);
    const d0 = await makeDeployment(
      sys.db.prisma,
      { userId: owner.user.id, datasetId: dataset.id },
      { status: "CANCELLED", podRequestedAt: new Date(), finishedAt: new Date() },
    );
    const orphan = await pod(`${sys.config.env.POD_NAME_PREFIX}${d0.id}`);
    await new Promise((r) => setTimeout(r, 1500)); // it bills meanwhile
    const real = sys.deps.lifecycle.runpod;
    // RunPod deletes the pod, and its answer never arrives (a timeout, a worker killed right after)
    const lossy: RunPodClient = Object.assign(Object.create(real) as RunPodClient, {
      terminatePod: async (id: string) => {
        await real.terminatePod(id);
        throw new RunPodUnavailableError("DELETE /pods: socket hang up", "network");
      },
    });
    await reconcile({ ...sys.deps.lifecycle, runpod: lossy }).catch(() => undefined);
    expect((await user.simPod(orphan.id)).status).toBe("TERMINATED");
    await reconcile(sys.deps.lifecycle); // the next pass, and the terminate jobs it requeues
    const d = await until("termination recorded", async () => {
      const row = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id: d0.id } });
      return row.podTerminatedAt ? row : null;
    });
    const sim = await user.simPod(orphan.id);
    const perSecond = (orphan.cost * 1e6) / 3600;
    expect(sim.accruedCostMicros).toBeGreaterThan(0);
    expect(Math.abs(Number(d.costMicros ?? -1n) - sim.accruedCostMicros)).toBeLessThanOrEqual(perSecond + 1);
    expect(d.podId).toBe(orphan.id); // recorded on its deployment before the DELETE: a lost answer loses nothing
  });

  it("a closed deployment whose pod termination was never confirmed gets its pod terminated", async () => {
    const sub = await user.submit({ steps: 500, sim_step_ms: 100 });
    await until("running", async () => (await user.get(sub.body.id)).status === "RUNNING");
    // a crash after FAILED was written but before the terminate job was added
    await sys.db.prisma.deployment.update({
      where: { id: sub.body.id },
      data: { status: "FAILED", failureReason: "INTERNAL_ERROR" },
    });
    const result = await reconcile(sys.deps.lifecycle);
    expect(result.terminationsRequeued).toBeGreaterThanOrEqual(1);
    const d = await user.settled(sub.body.id);
    expect((await user.simPod(d.pod.id)).status).toBe("TERMINATED");
  });
});
