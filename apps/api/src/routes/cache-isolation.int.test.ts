/**
 * Issue 28 review, finding 1: the cache volume is shared by every user's pods, so no user may read another's cached
 * weights through it. Over real HTTP: a baseModel under CACHE_VOLUME_MOUNT_PATH (a path into the volume's hub cache,
 * another user's gated snapshot) is refused before anything is written, on /validate and on submit; and the
 * submission records whether the hub called the model public and ungated (Deployment.modelShareable), the only
 * kind whose weights the pod may cache in the volume's shared HF_HOME.
 */
import request from "supertest";
import { FakeHub, llamaConfig } from "../../../../test/support/fake-hub";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeUser } from "../../../../test/factories";
import { countPgStatements } from "../../../../test/support/pg-transactions";

const hub = new FakeHub()
  .addToken("hf_alice")
  .addRepo({
    id: "meta-llama/Llama-3.1-8B",
    gated: "manual",
    allowed: ["hf_alice"],
    files: { "config.json": llamaConfig({ hidden: 64, layers: 2, heads: 4, kvHeads: 4, intermediate: 128 }) },
  })
  .addRepo({
    id: "open/tiny",
    files: { "config.json": llamaConfig({ hidden: 64, layers: 2, heads: 4, kvHeads: 4, intermediate: 128 }) },
  });
let h: ApiHarness;
const users: Record<string, { key: string; datasetId: string }> = {};

beforeAll(async () => {
  await hub.listen();
  h = await startTestApi({ env: { CACHE_VOLUME_MOUNT_PATH: "/trainpod-cache", HF_ENDPOINT: hub.base } });
  for (const name of ["alice", "bob"]) {
    const u = await makeUser(h.db.prisma, { email: `${name}@example.com` });
    users[name] = { key: u.key, datasetId: (await makeDataset(h.db.prisma, u.user.id)).id };
  }
  // alice's HF_TOKEN, approved for the gated model
  const res = await request(h.app)
    .post("/v1/secrets")
    .set("authorization", `Bearer ${users.alice!.key}`)
    .send({ name: "HF_TOKEN", value: "hf_alice" });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await h?.close();
  await hub.close();
});

const post = (who: string, path: string, over: Record<string, unknown>) =>
  request(h.app)
    .post(path)
    .set("authorization", `Bearer ${users[who]!.key}`)
    .send({
      datasetId: users[who]!.datasetId,
      baseModel: "open/tiny",
      gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
      hyperparameters: { steps: 1 },
      ...over,
    });

describe("a base model on the cache volume", () => {
  it.each([
    "/trainpod-cache/hf/hub/models--meta-llama--Llama-3.1-8B/snapshots/0123456789abcdef",
    "/trainpod-cache/users/0123456789abcdef/hf/hub/models--meta-llama--Llama-3.1-8B",
    "/trainpod-cache",
  ])("bob naming %s (alice's cached weights) is 422 BASE_MODEL_INVALID, on /validate and submit", async (path) => {
    const before = await h.db.prisma.deployment.count();
    for (const route of ["/v1/deployments/validate", "/v1/deployments"]) {
      const res = await post("bob", route, { baseModel: path });
      expect(res.status).toBe(422);
      expect(res.body.error.details.problems).toEqual([
        {
          code: "BASE_MODEL_INVALID",
          field: "baseModel",
          message: expect.stringMatching(/cache volume shared by every user/),
        },
      ]);
    }
    expect(await h.db.prisma.deployment.count()).toBe(before);
  });

  it("a folder beside it is no cache path (a path on the pod's own disk stays allowed)", async () => {
    const res = await post("bob", "/v1/deployments", { baseModel: "/trainpod-cache2/models/mine" });
    expect(res.status).toBe(202);
  });
});

describe("whether the model's cache may be shared", () => {
  const shareable = async (who: string, over: Record<string, unknown>) => {
    const res = await post(who, "/v1/deployments", over);
    expect(res.status).toBe(202);
    return (await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: res.body.id } })).modelShareable;
  };

  it("a public, ungated model: shared; a gated one (alice's token), a path, or the hub down: the user's own", async () => {
    expect(await shareable("alice", { baseModel: "open/tiny" })).toBe(true);
    expect(await shareable("alice", { baseModel: "meta-llama/Llama-3.1-8B", secrets: ["HF_TOKEN"] })).toBe(false);
    expect(await shareable("alice", { baseModel: "/models/local" })).toBe(false);
    hub.faults = { status: 503 };
    try {
      expect(await shareable("bob", { baseModel: "open/other" })).toBe(false);
    } finally {
      hub.faults = {};
    }
  });
});

describe("the user's HF_TOKEN", () => {
  it.each([
    ["/v1/deployments", 202],
    ["/v1/deployments/validate", 200],
  ])("is read once by %s, shared by the estimate and the model pre-flight", async (path, status) => {
    const reads = countPgStatements(/^\s*SELECT[\s\S]*"ciphertext"[\s\S]*"UserSecret"/);
    try {
      const res = await post("alice", path, { baseModel: "meta-llama/Llama-3.1-8B", secrets: ["HF_TOKEN"] });
      expect(res.status).toBe(status);
      expect(reads.count()).toBe(1);
    } finally {
      reads.stop();
    }
  });
});
