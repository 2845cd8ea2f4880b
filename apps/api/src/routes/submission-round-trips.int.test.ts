import request from "supertest";
import { createUserWithKey } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { countPgTransactions } from "../../../../test/support/pg-transactions";

// What a submission costs Postgres, counted on the API's own connections (every pg client's queries in this
// process): a statement outside BEGIN … COMMIT is one transaction, a BEGIN … COMMIT is one. With no budget a
// submission is the INSERT alone (the API key and the user's limits come from the process's caches); with a
// budget it is one transaction (the user's lock, the month's spend, the INSERT). An admin's change of a user's
// limits drops the cached ones: it applies to the very next submission.
let h: ApiHarness;
let user: { id: string; key: string; datasetId: string };
let admin: string;

/** Transactions begun on any pg connection of this process while `fn` runs. */
async function transactions<T>(fn: () => Promise<T>): Promise<{ value: T; count: number }> {
  const counter = countPgTransactions();
  try {
    const value = await fn();
    return { value, count: counter.count() };
  } finally {
    counter.stop();
  }
}

const submit = (body: Record<string, unknown> = {}) =>
  request(h.app)
    .post("/v1/deployments")
    .set("authorization", `Bearer ${user.key}`)
    .send({ datasetId: user.datasetId, baseModel: "tiny", gpuTypeIds: ["NVIDIA GeForce RTX 4090"], ...body });
const setLimits = (body: Record<string, unknown>) =>
  request(h.app)
    .put(`/v1/admin/users/${user.id}/limits`)
    .set("authorization", `Bearer ${admin}`)
    .send(body)
    .expect(200);

beforeAll(async () => {
  h = await startTestApi({ env: { USER_MONTHLY_BUDGET_USD: "0", ALLOWED_IMAGES: "runpod/*" } });
  const u = await createUserWithKey(h.db.prisma, { email: "alice@example.com" });
  user = { id: u.user.id, key: u.key, datasetId: (await makeDataset(h.db.prisma, u.user.id)).id };
  admin = (await createUserWithKey(h.db.prisma, { email: "admin@example.com", role: "ADMIN" })).key;
});
afterAll(async () => h?.close());

describe("Postgres transactions per submission", () => {
  it("no budget: one (the INSERT) per accepted submission once the key and the limits are cached", async () => {
    await submit().expect(202); // the first reads the key and the limits
    const { value, count } = await transactions(async () => {
      for (let i = 0; i < 5; i++) await submit().expect(202);
      return h.db.prisma.deployment.count();
    });
    expect(value).toBe(6);
    expect(count).toBe(5 + 1); // + the count above
  });

  it("a budget: one transaction per accepted submission (the user's lock, the month's spend and the INSERT)", async () => {
    await setLimits({ monthlyBudgetUsd: "1000" });
    await submit().expect(202); // the limits are read again: the admin's change dropped them
    const { count } = await transactions(async () => {
      for (let i = 0; i < 5; i++) await submit().expect(202);
    });
    expect(count).toBe(5);
  });

  it("an admin's change applies to the next submission: a lower budget refuses it, an allowed image admits it", async () => {
    await submit().expect(202); // cached
    await setLimits({ monthlyBudgetUsd: "0.000001" });
    expect((await submit().expect(422)).body.error.code).toBe("BUDGET_LIMIT");
    expect((await submit({ image: "myorg/trainer:1" }).expect(422)).body.error.details.problems).toEqual([
      expect.objectContaining({ code: "IMAGE_NOT_ALLOWED" }),
    ]);
    await setLimits({ monthlyBudgetUsd: null, extraImages: ["myorg/*"] });
    await submit({ image: "myorg/trainer:1" }).expect(202);
  });
});
