import { FakeHub, llamaConfig } from "../../../../test/support/fake-hub";
import { deploymentRequestSchema } from "../deployment/request-schema";
import { tablePriceList } from "../pricing/price-list";
import { CachedHub } from "./hub-cache";
import { HubClient } from "./hub-client";
import { checkModel, submittedEvent, type ModelPreflightDeps } from "./model-preflight";

// The model pre-flight of a submission against a local fake hub: access first, then the memory fit.

const hub = new FakeHub()
  .addToken("hf_alice")
  .addRepo({
    id: "meta-llama/Llama-3.1-70B",
    gated: "manual",
    allowed: ["hf_alice"],
    files: { "config.json": llamaConfig({ hidden: 8192, layers: 80, heads: 64, kvHeads: 8, intermediate: 28672 }) },
    parameters: { BF16: 70_553_706_496 },
  })
  .addRepo({
    id: "acme/private-8b",
    private: true,
    allowed: ["hf_alice"],
    files: { "config.json": llamaConfig({ hidden: 4096, layers: 32, heads: 32, kvHeads: 8, intermediate: 14336 }) },
  })
  .addRepo({
    id: "open/llama-8b",
    files: { "config.json": llamaConfig({ hidden: 4096, layers: 32, heads: 32, kvHeads: 8, intermediate: 14336 }) },
    parameters: { BF16: 8_030_261_248 },
  });
const tokenRequests: string[][] = [];
let deps: ModelPreflightDeps;
const USER = "00000000-0000-4000-8000-000000000001";
const RTX_4090 = "NVIDIA GeForce RTX 4090";
const A100 = "NVIDIA A100 80GB PCIe";

beforeAll(async () => {
  await hub.listen();
  const client = new HubClient({ endpoint: hub.base, timeoutMs: 1_000, maxFileBytes: 1024 * 1024 });
  deps = {
    hub: new CachedHub(client, { ttlMs: 60_000, maxEntries: 100, maxBytes: 1024 * 1024 }),
    hubTokenFor: async (_userId, names) => {
      tokenRequests.push([...names]);
      return "hf_alice";
    },
  };
});
afterAll(() => hub.close());
beforeEach(() => {
  hub.faults = {};
  hub.requests.length = 0;
  tokenRequests.length = 0;
});

function request(over: Record<string, unknown>) {
  return deploymentRequestSchema.parse({
    datasetId: "00000000-0000-4000-8000-000000000002",
    baseModel: "open/llama-8b",
    gpuTypeIds: [RTX_4090],
    ...over,
  });
}

describe("checkModel", () => {
  it("does not ask the hub about a model on the pod's disk", async () => {
    const r = await checkModel(deps, tablePriceList, USER, request({ baseModel: "/workspace/models/llama" }));
    expect(r).toEqual({ problems: [], gpuTypeIds: [RTX_4090], note: {} });
    expect(hub.requests).toHaveLength(0);
  });

  it("a gated model without HF_TOKEN in secrets: MODEL_ACCESS, the user's token never read", async () => {
    const r = await checkModel(deps, tablePriceList, USER, request({ baseModel: "meta-llama/Llama-3.1-70B" }));
    expect(r.problems).toEqual([
      expect.objectContaining({
        code: "MODEL_ACCESS",
        field: "secrets",
        details: expect.objectContaining({ reason: "GATED_NO_TOKEN" }),
      }),
    ]);
    expect(tokenRequests).toEqual([]);
  });

  it("with HF_TOKEN: access granted, then 70B bf16 on a 24 GB GPU is GPU_MEMORY_TOO_SMALL naming the estimate", async () => {
    const r = await checkModel(
      deps,
      tablePriceList,
      USER,
      request({ baseModel: "meta-llama/Llama-3.1-70B", secrets: ["HF_TOKEN"] }),
    );
    expect(tokenRequests).toEqual([["HF_TOKEN"]]);
    expect(hub.requests.every((q) => q.token === "hf_alice")).toBe(true);
    expect(r.problems).toHaveLength(1);
    const p = r.problems[0];
    expect(p?.code).toBe("GPU_MEMORY_TOO_SMALL");
    expect(p?.message).toMatch(/needs about 16\d\.\d GiB of memory on each GPU/);
    expect(p?.message).toContain(`${RTX_4090}: 24 GB`);
    expect(p?.details).toMatchObject({ smallestFittingGpuTypeId: "NVIDIA B200", smallestFittingMemoryGb: 180 });
    expect(r.gpuTypeIds).toEqual([]);
  });

  it("drops the GPU types that cannot hold the run and keeps the rest, noting both", async () => {
    const r = await checkModel(deps, tablePriceList, USER, request({ gpuTypeIds: [RTX_4090, A100] }));
    expect(r.problems).toEqual([]);
    expect(r.gpuTypeIds).toEqual([A100]);
    expect(r.note).toEqual({
      memoryEstimateGiB: expect.stringMatching(/^2\d\.\d$/),
      gpuTypesDropped: `${RTX_4090} (24 GB)`,
    });
    expect(submittedEvent(r)).toEqual({ message: "deployment queued", data: r.note });
  });

  it("8B 4-bit fits the 24 GB GPU; the catalog's memory is used where it has one", async () => {
    const quantized = request({ hyperparameters: { quantization: "4bit" } });
    expect((await checkModel(deps, tablePriceList, USER, quantized)).gpuTypeIds).toEqual([RTX_4090]);
    const smallCatalog = { ...tablePriceList, gpus: [{ gpuTypeId: RTX_4090, memoryGb: 8 }] };
    const r = await checkModel(deps, smallCatalog, USER, quantized);
    expect(r.problems.map((p) => p.code)).toEqual(["GPU_MEMORY_TOO_SMALL"]);
  });

  it("the hub unreachable: no problem, no estimate, a warning for the submitted event", async () => {
    hub.faults = { status: 503 };
    const r = await checkModel(deps, tablePriceList, USER, request({ baseModel: "someone/uncached" }));
    expect(r.problems).toEqual([]);
    expect(r.gpuTypeIds).toEqual([RTX_4090]);
    expect(r.note.hubWarning).toMatch(/not checked: the hub answered 503/);
    expect(submittedEvent(r)?.message).toMatch(/^deployment queued; model access and GPU memory not checked/);
  });

  it("only a public, ungated model is shareable in the cache volume's HF_HOME; gated, private or unchecked is not", async () => {
    const shareable = async (over: Record<string, unknown>) =>
      (await checkModel(deps, tablePriceList, USER, request({ ...over, secrets: ["HF_TOKEN"] }))).shareable === true;
    expect(await shareable({ baseModel: "open/llama-8b" })).toBe(true);
    expect(await shareable({ baseModel: "meta-llama/Llama-3.1-70B", gpuTypeIds: [A100] })).toBe(false);
    expect(await shareable({ baseModel: "acme/private-8b" })).toBe(false);
    expect(await shareable({ baseModel: "/workspace/models/llama" })).toBe(false);
    hub.faults = { status: 503 };
    expect(await shareable({ baseModel: "someone/uncached" })).toBe(false);
  });
});
