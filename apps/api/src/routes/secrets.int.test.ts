import request from "supertest";
import { randomBytes } from "node:crypto";
import { createUserWithKey } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { leakedSecrets, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let alice: { key: string; userId: string; datasetId: string };
let bobKey: string;
const VALUE = `hf_${randomBytes(20).toString("hex")}`;

beforeAll(async () => {
  h = await startTestApi();
  const a = await createUserWithKey(h.db.prisma, { email: "alice@example.com" });
  alice = { key: a.key, userId: a.user.id, datasetId: (await makeDataset(h.db.prisma, a.user.id)).id };
  bobKey = (await createUserWithKey(h.db.prisma, { email: "bob@example.com" })).key;
});
afterAll(async () => {
  await h?.close();
});

const as = (key: string) => ({
  post: (path: string, body: unknown) =>
    request(h.app)
      .post(path)
      .set("authorization", `Bearer ${key}`)
      .send(body as object),
  get: (path: string) => request(h.app).get(path).set("authorization", `Bearer ${key}`),
  del: (path: string) => request(h.app).delete(path).set("authorization", `Bearer ${key}`),
});
const submission = (extra: Record<string, unknown>) => ({
  datasetId: alice.datasetId,
  baseModel: "org/model",
  gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
  ...extra,
});

describe("/v1/secrets", () => {
  it("needs an API key", async () => {
    expect((await request(h.app).get("/v1/secrets")).status).toBe(401);
    expect((await request(h.app).post("/v1/secrets").send({ name: "A", value: "b" })).status).toBe(401);
  });

  it("POST creates (201) then replaces (200); GET lists names only, per user; DELETE 204 then 404", async () => {
    const a = as(alice.key);
    const created = await a.post("/v1/secrets", { name: "HF_TOKEN", value: VALUE });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(["createdAt", "name", "updatedAt"]);
    const replaced = await a.post("/v1/secrets", { name: "HF_TOKEN", value: VALUE });
    expect(replaced.status).toBe(200);
    expect((await a.post("/v1/secrets", { name: "GONE_SOON", value: "temporary-value" })).status).toBe(201);
    const list = await a.get("/v1/secrets");
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(["GONE_SOON", "HF_TOKEN"]);
    expect(JSON.stringify(list.body)).not.toContain(VALUE);
    expect((await as(bobKey).get("/v1/secrets")).body).toEqual({ items: [] });
    expect((await as(bobKey).del("/v1/secrets/HF_TOKEN")).status).toBe(404);
    expect((await a.del("/v1/secrets/GONE_SOON")).status).toBe(204);
    const again = await a.del("/v1/secrets/GONE_SOON");
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("NOT_FOUND");
  });

  it("a reserved name is 422, a bad name or value 400; nothing stored and the value never echoed", async () => {
    const a = as(alice.key);
    const secretish = `v_${randomBytes(12).toString("hex")}`;
    for (const name of ["TRAINPOD_RUN_TOKEN", "RUNPOD_POD_ID", "PATH", "HOME", "PYTHONPATH", "LD_PRELOAD"]) {
      const r = await a.post("/v1/secrets", { name, value: secretish });
      expect({ name, status: r.status, code: r.body.error?.code }).toEqual({
        name,
        status: 422,
        code: "UNPROCESSABLE",
      });
      expect(JSON.stringify(r.body)).not.toContain(secretish);
    }
    const big = await a.post("/v1/secrets", { name: "BIG", value: `${secretish}${"x".repeat(64 * 1024)}` });
    expect(big.status).toBe(400);
    expect(big.body.error.details).toEqual([{ path: "value", message: "at most 65536 bytes" }]);
    for (const body of [{ name: "lower", value: secretish }, { name: "A" }, { name: "A", value: 5 }]) {
      const r = await a.post("/v1/secrets", body);
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).not.toContain(secretish);
    }
    expect(await h.db.prisma.userSecret.count({ where: { name: { in: ["BIG", "lower", "PATH"] } } })).toBe(0);
    expect(leakedSecrets(h.logs, [secretish, VALUE])).toEqual([]);
  });
});

describe("a deployment's secrets at submission", () => {
  it("an unknown name is 422 SECRET_NOT_FOUND naming it, and no row is written", async () => {
    const before = await h.db.prisma.deployment.count();
    const r = await as(alice.key).post("/v1/deployments", submission({ secrets: ["HF_TOKEN", "NOT_SET"] }));
    expect(r.status).toBe(422);
    expect(r.body.error.details.problems).toEqual([
      {
        code: "SECRET_NOT_FOUND",
        field: "secrets.1",
        message: "you have no secret named NOT_SET: set it first (POST /v1/secrets, trainpod secrets set NOT_SET)",
      },
    ]);
    // bob has no HF_TOKEN: alice's does not count for him
    const bob = await as(bobKey).post("/v1/deployments", submission({ secrets: ["HF_TOKEN"] }));
    expect(bob.status).toBe(422);
    expect(await h.db.prisma.deployment.count()).toBe(before);
    expect(await h.db.prisma.deploymentEvent.count()).toBe(0);
  });

  it("hub without HF_TOKEN and wandb without WANDB_API_KEY in secrets are 422 SECRET_REQUIRED", async () => {
    const r = await as(alice.key).post(
      "/v1/deployments",
      submission({ secrets: [], hub: { repo: "alice/out" }, wandb: { project: "runs" } }),
    );
    expect(r.status).toBe(422);
    expect(
      r.body.error.details.problems.map((p: { code: string; message: string }) => p.message.split(" (")[0]),
    ).toEqual(["hub needs the secret HF_TOKEN in secrets", "wandb needs the secret WANDB_API_KEY in secrets"]);
  });

  it("a known name is accepted, stored on the deployment and shown by name only", async () => {
    const r = await as(alice.key).post("/v1/deployments", submission({ secrets: ["HF_TOKEN"] }));
    expect(r.status).toBe(202);
    expect(r.body.secrets).toEqual(["HF_TOKEN"]);
    const d = await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: r.body.id } });
    expect(d.secretNames).toEqual(["HF_TOKEN"]);
    const view = await as(alice.key).get(`/v1/deployments/${r.body.id}`);
    expect(JSON.stringify(view.body)).not.toContain(VALUE);
    expect(leakedSecrets(h.logs, [VALUE])).toEqual([]);
  });
});

describe("an admin's retry of a deployment with secrets", () => {
  it("keeps its secret names, and is 422 SECRET_NOT_FOUND once the owner deleted one", async () => {
    const admin = (await createUserWithKey(h.db.prisma, { email: "admin@example.com", role: "ADMIN" })).key;
    await as(alice.key).post("/v1/secrets", { name: "RETRY_ME", value: "retry-value" });
    const failed = async () => {
      const r = await as(alice.key).post("/v1/deployments", submission({ secrets: ["HF_TOKEN", "RETRY_ME"] }));
      expect(r.status).toBe(202);
      await h.db.prisma.deployment.update({ where: { id: r.body.id }, data: { status: "FAILED" } });
      return r.body.id as string;
    };
    const first = await failed();
    const retried = await as(admin).post(`/v1/admin/deployments/${first}/retry`, {});
    expect(retried.status).toBe(202);
    expect(retried.body.secrets).toEqual(["HF_TOKEN", "RETRY_ME"]);
    const second = await failed();
    expect((await as(alice.key).del("/v1/secrets/RETRY_ME")).status).toBe(204);
    const refused = await as(admin).post(`/v1/admin/deployments/${second}/retry`, {});
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.problems).toEqual([
      expect.objectContaining({ code: "SECRET_NOT_FOUND", field: "secrets.1" }),
    ]);
  });
});
