import { readdirSync } from "node:fs";
import path from "node:path";
import { createUserWithKey } from "@trainpod/core";
import { startSystem, type System } from "../support/system";

let sys: System;
let key: string;
let otherKey: string;
let datasetId: string;

const DATASET = [
  { messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] },
  { messages: [{ role: "user", content: "2+2?" }, { role: "assistant", content: "4" }] },
]
  .map((r) => JSON.stringify(r))
  .join("\n");

async function api(method: string, path: string, body?: unknown, as = key, headers: Record<string, string> = {}) {
  const res = await fetch(`${sys.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${as}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function simPod(podId: string) {
  const res = await sys.sim.admin(`/admin/pods/${podId}`);
  return (await res.json()) as { status: string; accruedCostMicros: number; terminatedAt: string | null; restarts: number };
}

function submit(hyperparameters: Record<string, unknown>, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return api("POST", "/v1/deployments", { datasetId, baseModel: "tiny-llama", gpuTypeIds: ["NVIDIA GeForce RTX 4090"], hyperparameters, ...extra }, key, headers);
}

async function settled(id: string) {
  try {
    return await until(`deployment ${id} closed`, async () => {
      const d = await api("GET", `/v1/deployments/${id}`);
      return d.body.timestamps?.podTerminatedAt ? d.body : null;
    });
  } catch (err) {
    // say what happened, so a failure here can be diagnosed from the test output alone
    const d = (await api("GET", `/v1/deployments/${id}`)).body;
    const pod = d.pod?.id ? await (await sys.sim.admin(`/admin/pods/${d.pod.id}/logs`)).text() : "(no pod)";
    const problems = sys.logs.filter((l) => /"level":"(warn|error)"/.test(l)).slice(-20);
    throw new Error(`${(err as Error).message}\n${JSON.stringify(d, null, 1).slice(0, 4000)}\npod log:\n${pod.slice(-3000)}\nlogs:\n${problems.join("\n")}`);
  }
}

beforeAll(async () => {
  sys = await startSystem();
  key = (await createUserWithKey(sys.db.prisma, { email: "e2e@example.com", role: "USER" })).key;
  otherKey = (await createUserWithKey(sys.db.prisma, { email: "other@example.com", role: "USER" })).key;
  const up = await fetch(`${sys.apiUrl}/v1/datasets?name=chat`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" }, body: DATASET });
  expect(up.status).toBe(201);
  datasetId = ((await up.json()) as { id: string }).id;
}, 60_000);

afterAll(async () => {
  await sys?.stop();
});

describe("the deploy pipeline, end to end", () => {
  it("a successful run downloads its dataset, trains, uploads, is terminated at once, and has its cost recorded", async () => {
    const sub = await submit({ steps: 3, sim_step_ms: 50 });
    expect(sub.status).toBe(202);
    const d = await settled(sub.body.id);
    expect(d.status).toBe("SUCCEEDED");
    const types = (d.events as Array<{ type: string }>).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["submitted", "pod_created", "running", "dataset_downloaded", "progress", "succeeded", "pod_terminated"]));
    expect(d.progress.step).toBe(3);
    const pod = await simPod(d.pod.id);
    expect(pod.status).toBe("terminated");
    expect(BigInt(d.costUsd.replace(".", ""))).toBeGreaterThan(0n);
    // recorded cost within one second's price of the simulator's own bill
    expect(Math.abs(Number(d.costUsd) * 1e6 - pod.accruedCostMicros)).toBeLessThanOrEqual(2 * 192 + 1);
    const token = await sys.db.prisma.datasetDownloadToken.findFirstOrThrow({ where: { deploymentId: d.id } });
    expect(token.usedAt).not.toBeNull();
    expect(await sys.db.prisma.deploymentEvent.count({ where: { deploymentId: d.id, type: "pod_terminated" } })).toBe(1);
    // the artifact folder the trainer wrote was uploaded through the run token
    const uploaded = readdirSync(path.join(sys.config.env.ARTIFACT_DIR, d.id));
    expect(uploaded).toEqual(expect.arrayContaining(["adapter_config.json", "adapter_model.safetensors"]));
    // the run token is revoked at termination
    const run = await sys.db.prisma.runToken.findFirstOrThrow({ where: { deploymentId: d.id } });
    expect(run.revokedAt).not.toBeNull();
  });

  it("a failing run is terminated within 2 s of reporting failure, with exit code and last log lines kept", async () => {
    const sub = await submit({ steps: 5, sim_step_ms: 50, sim_fail_at_step: 2, sim_exit_code: 3 });
    const d = await settled(sub.body.id);
    expect(d.status).toBe("FAILED");
    expect(d.failureReason).toBe("TRAINING_FAILED");
    expect(d.exitCode).toBe(3);
    expect(d.failureMessage).toMatch(/Traceback|exit code 3/);
    const failedAt = new Date(d.timestamps.finishedAt).getTime();
    const terminatedAt = new Date(d.timestamps.podTerminatedAt).getTime();
    expect(terminatedAt - failedAt).toBeLessThan(2000);
    expect((await simPod(d.pod.id)).status).toBe("terminated");
  });

  it("cancel terminates the pod", async () => {
    const sub = await submit({ steps: 200, sim_step_ms: 100 });
    await until("running", async () => (await api("GET", `/v1/deployments/${sub.body.id}`)).body.status === "RUNNING");
    const c = await api("POST", `/v1/deployments/${sub.body.id}/cancel`);
    expect(c.status).toBe(202);
    const d = await settled(sub.body.id);
    expect(d.status).toBe("CANCELLED");
    expect((await simPod(d.pod.id)).status).toBe("terminated");
  });

  it("the same Idempotency-Key returns the same deployment; another user's deployment is 404", async () => {
    const a = await submit({ steps: 1, sim_step_ms: 10 }, {}, { "idempotency-key": "run-42" });
    const b = await submit({ steps: 1, sim_step_ms: 10 }, {}, { "idempotency-key": "run-42" });
    expect(b.body.id).toBe(a.body.id);
    expect(b.status).toBe(200);
    expect((await api("GET", `/v1/deployments/${a.body.id}`, undefined, otherKey)).status).toBe(404);
    expect((await api("POST", `/v1/deployments/${a.body.id}/cancel`, undefined, otherKey)).status).toBe(404);
    await settled(a.body.id);
    expect(await sys.db.prisma.deployment.count({ where: { idempotencyKey: "run-42" } })).toBe(1);
  });
});
