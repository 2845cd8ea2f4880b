/**
 * Issue 34, finding 2: a retry is a submission, so it passes every rule a submission passes, as the rules stand at
 * the retry (not as they stood when the first run was accepted): the image allowlist (the user's own patterns
 * included), MAX_GPU_COUNT, MAX_RUNTIME_MINUTES, MAX_COST_USD_PER_DEPLOYMENT, the image's grammar and the budget.
 * A refused retry is a 422 listing the problems, and writes and enqueues nothing.
 */
import request from "supertest";
import { closeQueues, createQueues, createRedis, type Deployment, type Queues, type Redis } from "@trainpod/core";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { TEST_REDIS_URL } from "../../../../test/support/test-redis";

let h: ApiHarness;
let adminKey: string;
let redis: Redis;
let queues: Queues;

beforeAll(async () => {
  h = await startTestApi({
    env: {
      ALLOWED_IMAGES: "runpod/*",
      MAX_GPU_COUNT: "4",
      MAX_RUNTIME_MINUTES: "600",
      MAX_COST_USD_PER_DEPLOYMENT: "4",
      USER_MONTHLY_BUDGET_USD: "5",
    },
  });
  adminKey = (await makeUser(h.db.prisma, { email: "ops@example.com", role: "ADMIN" })).key;
  redis = createRedis(TEST_REDIS_URL, { failFast: true });
  queues = createQueues(redis, h.config.env.QUEUE_PREFIX);
});
afterAll(async () => {
  if (queues) await closeQueues(queues);
  redis?.disconnect();
  await h?.close();
});

const asAdmin = (method: "post" | "put", path: string) =>
  request(h.app)[method](path).set("authorization", `Bearer ${adminKey}`);

async function owner() {
  const u = await makeUser(h.db.prisma);
  return { key: u.key, userId: u.user.id, datasetId: (await makeDataset(h.db.prisma, u.user.id)).id };
}
type Owner = Awaited<ReturnType<typeof owner>>;

/** A FAILED deployment of `o` with a request that passed the rules of its day: $1, 1 GPU, 60 minutes. */
const failed = (o: Owner, over: Parameters<typeof makeDeployment>[2] = {}) =>
  makeDeployment(h.db.prisma, o, {
    status: "FAILED",
    failureReason: "TRAINING_FAILED",
    maxCostMicros: 1_000_000n,
    podTerminatedAt: new Date(),
    ...over,
  });

/** The retry is refused with these problem codes, and nothing is written or enqueued. */
async function refused(old: Deployment, codes: string[]): Promise<void> {
  const before = await h.db.prisma.deployment.count();
  const res = await asAdmin("post", `/v1/admin/deployments/${old.id}/retry`);
  expect([res.status, res.body.error?.code]).toEqual([422, "PREFLIGHT_FAILED"]);
  expect((res.body.error.details.problems as Array<{ code: string }>).map((p) => p.code).sort()).toEqual(codes);
  expect(await h.db.prisma.deployment.count()).toBe(before);
  expect(await queues.deploy.count()).toBe(0);
}

describe("a retry passes every rule a submission passes, as they stand now", () => {
  it("an image an admin removed from the user's patterns: the user's submit and the admin's retry are both 422", async () => {
    const o = await owner();
    await asAdmin("put", `/v1/admin/users/${o.userId}/limits`)
      .send({ extraImages: ["myorg/*"] })
      .expect(200);
    const old = await failed(o, { imageName: "myorg/miner:1" });
    await asAdmin("put", `/v1/admin/users/${o.userId}/limits`).send({ extraImages: [] }).expect(200);
    const own = await request(h.app)
      .post("/v1/deployments")
      .set("authorization", `Bearer ${o.key}`)
      .send({
        datasetId: o.datasetId,
        baseModel: "gpt2",
        gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
        image: "myorg/miner:1",
        maxCostUsd: "1",
      });
    expect([own.status, own.body.error.details.problems[0].code]).toEqual([422, "IMAGE_NOT_ALLOWED"]);
    await refused(old, ["IMAGE_NOT_ALLOWED"]);
  });

  it("MAX_GPU_COUNT, MAX_RUNTIME_MINUTES and MAX_COST_USD_PER_DEPLOYMENT: each refuses a retry over it", async () => {
    const o = await owner();
    await refused(await failed(o, { gpuCount: 8 }), ["GPU_COUNT_OVER_LIMIT"]);
    await refused(await failed(o, { maxRuntimeMinutes: 601 }), ["RUNTIME_OVER_LIMIT"]);
    await refused(await failed(o, { maxCostMicros: 4_000_001n }), ["COST_OVER_LIMIT"]);
    await refused(await failed(o, { gpuCount: 8, maxRuntimeMinutes: 9000, maxCostMicros: 9_000_000n }), [
      "COST_OVER_LIMIT",
      "GPU_COUNT_OVER_LIMIT",
      "RUNTIME_OVER_LIMIT",
    ]);
  });

  it("an image name stored before the grammar held (a trailing space) is refused as IMAGE_INVALID", async () => {
    const o = await owner();
    await refused(await failed(o, { imageName: "runpod/pytorch:2.4 " }), ["IMAGE_INVALID"]);
  });

  it("the budget: a retry that could take the month over it is 422 BUDGET_LIMIT", async () => {
    const o = await owner();
    await makeDeployment(h.db.prisma, o, { status: "RUNNING", podId: `pod-${o.userId}`, maxCostMicros: 3_000_000n });
    const old = await failed(o, { maxCostMicros: 3_000_000n });
    const before = await h.db.prisma.deployment.count();
    const res = await asAdmin("post", `/v1/admin/deployments/${old.id}/retry`);
    expect([res.status, res.body.error.code]).toEqual([422, "BUDGET_LIMIT"]);
    expect(await h.db.prisma.deployment.count()).toBe(before);
  });

  it("a retry within every rule is accepted; once accepted, a repeat answers it whatever the rules say now", async () => {
    const o = await owner();
    await asAdmin("put", `/v1/admin/users/${o.userId}/limits`)
      .send({ extraImages: ["myorg/*"] })
      .expect(200);
    const old = await failed(o, { imageName: "docker.io/myorg/trainer:1" });
    const res = await asAdmin("post", `/v1/admin/deployments/${old.id}/retry`).expect(202);
    // stored as a submission would store it: the reference normalized
    expect(res.body).toMatchObject({ status: "QUEUED", retryOfId: old.id });
    expect((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: res.body.id } })).imageName).toBe(
      "myorg/trainer:1",
    );
    await asAdmin("put", `/v1/admin/users/${o.userId}/limits`)
      .send({ extraImages: [], monthlyBudgetUsd: "0.000001" })
      .expect(200);
    const again = await asAdmin("post", `/v1/admin/deployments/${old.id}/retry`).expect(200);
    expect(again.body.id).toBe(res.body.id);
    await queues.deploy.obliterate({ force: true });
  });

  it("keeps the request's cache rule (issue 28: cache require stays require, it was lost to prefer)", async () => {
    const o = await owner();
    const old = await failed(o, { cacheMode: "require" });
    const res = await asAdmin("post", `/v1/admin/deployments/${old.id}/retry`).expect(202);
    expect((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: res.body.id } })).cacheMode).toBe("require");
    await queues.deploy.obliterate({ force: true });
  });
});
