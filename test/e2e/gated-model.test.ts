/**
 * The model pre-flight end to end (issue 25 items 2 and 3), on the simulator with a local fake Hugging Face hub
 * (HF_ENDPOINT): a gated model without the user's HF_TOKEN is 422 MODEL_ACCESS before anything is written or rented;
 * with the secret it is accepted, and another user's token without access is still refused (the hub cache is per
 * token); a 70B model on a 24 GB GPU is 422 GPU_MEMORY_TOO_SMALL naming the estimate; an 8B model in 4-bit on the
 * same GPU is accepted; GPU types too small are dropped from the stored request; the hub's answers are cached;
 * the hub down does not block a submission (a warning in its `submitted` event).
 */
import { FakeHub, llamaConfig } from "../support/fake-hub";
import { startSystem, type System } from "../support/system";
import { TestClient, type Json } from "./support/client";

const RTX_4090 = "NVIDIA GeForce RTX 4090";
const A100 = "NVIDIA A100 80GB PCIe";
const CONFIG_8B = llamaConfig({ hidden: 4096, layers: 32, heads: 32, kvHeads: 8, intermediate: 14336 });
const CONFIG_70B = llamaConfig({ hidden: 8192, layers: 80, heads: 64, kvHeads: 8, intermediate: 28672 });
const GATED = "meta-llama/Llama-3.1-8B-Instruct";

const hub = new FakeHub()
  .addToken("hf_granted_token_value")
  .addToken("hf_other_token_value")
  .addRepo({
    id: GATED,
    gated: "manual",
    allowed: ["hf_granted_token_value"],
    files: { "config.json": CONFIG_8B },
    parameters: { BF16: 8_030_261_248 },
  })
  .addRepo({ id: "open/llama-70b", files: { "config.json": CONFIG_70B }, parameters: { BF16: 70_553_706_496 } })
  .addRepo({ id: "open/llama-8b", files: { "config.json": CONFIG_8B }, parameters: { BF16: 8_030_261_248 } });
let sys: System;

beforeAll(async () => {
  await hub.listen();
  sys = await startSystem({ env: { HF_ENDPOINT: hub.base, HUB_TIMEOUT_MS: "2000" } });
}, 60_000);
afterAll(async () => {
  await sys?.stop();
  await hub.close();
}, 60_000);

const problems = (body: Json) => body.error?.details?.problems as Array<Json> | undefined;
const submit = (c: TestClient, baseModel: string, extra: Json = {}, hp: Json = {}) =>
  c.submit({ steps: 2, sim_step_ms: 20, ...hp }, { baseModel, maxCostUsd: "5", ...extra });

const simPods = async () => ((await (await sys.sim.admin("/admin/pods")).json()) as Json[]).length;

/** Nothing was written or rented: no deployment row of the user, no more pods in the simulator than before. */
async function nothingCreated(email: string, podsBefore: number): Promise<void> {
  const user = await sys.db.prisma.user.findUniqueOrThrow({ where: { email } });
  expect(await sys.db.prisma.deployment.count({ where: { userId: user.id } })).toBe(0);
  expect(await simPods()).toBe(podsBefore);
}

async function submittedEvent(c: TestClient, id: string): Promise<Json> {
  const d = await c.get(id);
  return (d.events as Json[]).find((e) => e.type === "submitted") ?? {};
}

describe("the model pre-flight at submission", () => {
  it("a gated model without HF_TOKEN: 422 MODEL_ACCESS (submit and validate), nothing written, no pod", async () => {
    const ann = await TestClient.create(sys, "ann@example.com");
    const pods = await simPods();
    const r = await submit(ann, GATED);
    expect(r.status).toBe(422);
    expect(problems(r.body)).toEqual([
      expect.objectContaining({
        code: "MODEL_ACCESS",
        field: "secrets",
        details: { reason: "GATED_NO_TOKEN", model: GATED, page: `${hub.base}/${GATED}` },
      }),
    ]);
    expect(problems(r.body)?.[0]?.message).toMatch(/is gated: accept its conditions on .*HF_TOKEN/);
    const v = await ann.api("POST", "/v1/deployments/validate", {
      datasetId: ann.datasetId,
      baseModel: GATED,
      gpuTypeIds: [RTX_4090],
    });
    expect([v.status, problems(v.body)?.map((p) => p.code)]).toEqual([422, ["MODEL_ACCESS"]]);
    await nothingCreated("ann@example.com", pods);
  });

  it("with the HF_TOKEN secret: accepted; another user's token without access is refused", async () => {
    const bea = await TestClient.create(sys, "bea@example.com");
    const set = await bea.api("POST", "/v1/secrets", { name: "HF_TOKEN", value: "hf_granted_token_value" });
    expect(set.status).toBe(201);
    const ok = await submit(bea, GATED, { secrets: ["HF_TOKEN"] }, { quantization: "4bit" });
    expect(ok.status).toBe(202);
    expect(ok.body.gpuTypeIds).toEqual([RTX_4090]);

    const cid = await TestClient.create(sys, "cid@example.com");
    await cid.api("POST", "/v1/secrets", { name: "HF_TOKEN", value: "hf_other_token_value" });
    const refused = await submit(cid, GATED, { secrets: ["HF_TOKEN"] }, { quantization: "4bit" });
    expect(refused.status).toBe(422);
    expect(problems(refused.body)?.[0]).toMatchObject({
      code: "MODEL_ACCESS",
      details: { reason: "TOKEN_LACKS_ACCESS" },
    });
    expect(problems(refused.body)?.[0]?.message).toContain(`request access on ${hub.base}/${GATED}`);
    // the token reached the hub only as its bearer header, and no answer carries it
    expect(JSON.stringify([ok.body, refused.body])).not.toMatch(/hf_(granted|other)_token_value/);
    await bea.api("POST", `/v1/deployments/${ok.body.id as string}/cancel`);
  });

  it("70B on a 24 GB GPU: 422 GPU_MEMORY_TOO_SMALL with the estimate and the smallest type that fits", async () => {
    const dan = await TestClient.create(sys, "dan@example.com");
    const pods = await simPods();
    const r = await submit(dan, "open/llama-70b", { gpuTypeIds: [RTX_4090] });
    expect(r.status).toBe(422);
    const p = problems(r.body)?.[0] ?? {};
    expect(p.code).toBe("GPU_MEMORY_TOO_SMALL");
    expect(p.message).toMatch(/needs about \d+\.\d GiB of memory on each GPU .*RTX 4090: 24 GB/);
    expect(p.details.estimateGiB).toBeGreaterThan(140);
    expect(p.details.smallestFittingMemoryGb).toBeGreaterThan(140);
    await nothingCreated("dan@example.com", pods);
  });

  it("8B in 4-bit on the 24 GB GPU is accepted; 8B bf16 keeps only the GPU types that hold it", async () => {
    const eve = await TestClient.create(sys, "eve@example.com");
    const quantized = await submit(eve, "open/llama-8b", {}, { quantization: "4bit" });
    expect(quantized.status).toBe(202);
    expect((await submittedEvent(eve, quantized.body.id as string)).data).toEqual({
      memoryEstimateGiB: expect.stringMatching(/^1\d\.\d$/),
    });
    const bf16 = await submit(eve, "open/llama-8b", { gpuTypeIds: [RTX_4090, A100] });
    expect(bf16.status).toBe(202);
    expect(bf16.body.gpuTypeIds).toEqual([A100]);
    const stored = await sys.db.prisma.deployment.findUniqueOrThrow({ where: { id: bf16.body.id as string } });
    expect(stored.gpuTypeIds).toEqual([A100]);
    expect((await submittedEvent(eve, bf16.body.id as string)).data).toMatchObject({
      gpuTypesDropped: `${RTX_4090} (24 GB)`,
    });
    for (const d of [quantized, bf16]) await eve.api("POST", `/v1/deployments/${d.body.id as string}/cancel`);
  });

  it("a repeated submission is answered from the cache; the hub down does not block a submission", async () => {
    const fay = await TestClient.create(sys, "fay@example.com");
    const asked = hub.requests.length;
    const again = await submit(fay, "open/llama-70b", { gpuTypeIds: [RTX_4090] });
    expect(problems(again.body)?.map((p) => p.code)).toEqual(["GPU_MEMORY_TOO_SMALL"]);
    expect(hub.requests.slice(asked)).toEqual([]);

    hub.addRepo({ id: "open/never-asked", files: { "config.json": CONFIG_8B } });
    hub.faults = { status: 503 };
    try {
      const r = await submit(fay, "open/never-asked");
      expect(r.status).toBe(202);
      const event = await submittedEvent(fay, r.body.id as string);
      expect(event.message).toMatch(
        /^deployment queued; model access and GPU memory not checked: the hub answered 503/,
      );
      await fay.api("POST", `/v1/deployments/${r.body.id as string}/cancel`);
    } finally {
      hub.faults = {};
    }
  });
});
