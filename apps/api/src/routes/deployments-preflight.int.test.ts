import request from "supertest";
import { createUserWithKey } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let sim: ApiHarness;
let real: ApiHarness;
let simKey: string;
let simDataset: string;
let unvalidated: string;
let realKey: string;

beforeAll(async () => {
  sim = await startTestApi();
  // RUNPOD_API_KEY set: the API talks to real RunPod, so a PUBLIC_URL on 127.0.0.1 cannot work
  real = await startTestApi({ env: { RUNPOD_API_KEY: "rp_test_not_a_real_key" } });
  const u = await createUserWithKey(sim.db.prisma, { email: "alice@example.com" });
  simKey = u.key;
  simDataset = (await makeDataset(sim.db.prisma, u.user.id)).id;
  unvalidated = (await makeDataset(sim.db.prisma, u.user.id, { format: "unknown", rowCount: 0 })).id;
  realKey = (await createUserWithKey(real.db.prisma, { email: "bob@example.com" })).key;
});
afterAll(async () => {
  await sim?.close();
  await real?.close();
});

const body = (datasetId: string, extra: Record<string, unknown> = {}) => ({
  datasetId,
  baseModel: "tiny",
  gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
  ...extra,
});
const post = (h: ApiHarness, key: string, path: string, payload: unknown) =>
  request(h.app)
    .post(path)
    .set("authorization", `Bearer ${key}`)
    .send(payload as object);

describe("pre-flight checks", () => {
  it("submit reports every problem at once in one 422 and writes nothing", async () => {
    const payload = body("3c59dc04-8f2b-4d5e-9a1b-2c3d4e5f6a7b", {
      gpuTypeIds: ["NVIDIA GTX 9999", "NVIDIA GeForce RTX 4090"],
      image: "",
      maxCostUsd: "0.05",
    });
    const res = await post(real, realKey, "/v1/deployments", payload).expect(422);
    expect(res.body.error.code).toBe("PREFLIGHT_FAILED");
    expect(res.body.error.details.problems.map((p: { code: string }) => p.code)).toEqual([
      "DATASET_NOT_FOUND",
      "UNKNOWN_GPU_TYPE",
      "IMAGE_MISSING",
      "BUDGET_BELOW_SETUP",
      "PUBLIC_URL_UNREACHABLE",
    ]);
    expect(res.body.error.details.problems[4].message).toMatch(/PUBLIC_URL http:\/\/127\.0\.0\.1:\d+ is not reachable/);
    expect(await real.db.prisma.deployment.count()).toBe(0);
    // /validate says the same
    const v = await post(real, realKey, "/v1/deployments/validate", payload).expect(422);
    expect(v.body.error.details).toEqual(res.body.error.details);
  });

  it("a dataset that did not pass format validation, or is someone else's, is a problem", async () => {
    const bad = await post(sim, simKey, "/v1/deployments/validate", body(unvalidated)).expect(422);
    expect(bad.body.error.details.problems).toEqual([
      expect.objectContaining({ code: "DATASET_NOT_VALIDATED", field: "datasetId" }),
    ]);
    const other = await createUserWithKey(sim.db.prisma, { email: "eve@example.com" });
    const foreign = await post(sim, other.key, "/v1/deployments/validate", body(simDataset)).expect(422);
    expect(foreign.body.error.details.problems).toEqual([expect.objectContaining({ code: "DATASET_NOT_FOUND" })]);
  });

  it("on the simulator, localhost PUBLIC_URL passes; a sound request validates and submits", async () => {
    await post(sim, simKey, "/v1/deployments/validate", body(simDataset)).expect(200, { ok: true, problems: [] });
    expect(await sim.db.prisma.deployment.count()).toBe(0);
    await post(sim, simKey, "/v1/deployments", body(simDataset)).expect(202);
    expect(await sim.db.prisma.deployment.count()).toBe(1);
  });

  it("bad hyperparameters (a string epochs, an unknown key) are one 422 before anything is written (issue 15)", async () => {
    const before = await sim.db.prisma.deployment.count();
    const payload = body(simDataset, { hyperparameters: { epochs: "3", lr: 0.1, steps: 10 } });
    const res = await post(sim, simKey, "/v1/deployments", payload).expect(422);
    expect(res.body.error.code).toBe("UNPROCESSABLE");
    expect(res.body.error.details.problems).toEqual([
      expect.objectContaining({ path: "hyperparameters.epochs" }),
      expect.objectContaining({ path: "hyperparameters", keys: ["lr"] }),
    ]);
    expect(await sim.db.prisma.deployment.count()).toBe(before);
    await post(sim, simKey, "/v1/deployments/validate", payload).expect(422);
    await post(
      sim,
      simKey,
      "/v1/deployments/validate",
      body(simDataset, { hyperparameters: { epochs: 3, sim_step_ms: 10, target_modules: ["q_proj"] } }),
    ).expect(200);
  });

  it("the method must train on the dataset's format: dpo on preference rows, sft on the others (issue 26)", async () => {
    const u = await sim.db.prisma.user.findFirstOrThrow({ where: { email: "alice@example.com" } });
    const pairs = (await makeDataset(sim.db.prisma, u.id, { format: "preference_chat", rowCount: 3 })).id;
    const dpo = { hyperparameters: { method: "dpo", dpo_beta: 0.2 } };
    await post(sim, simKey, "/v1/deployments/validate", body(pairs, dpo)).expect(200);
    const before = await sim.db.prisma.deployment.count();
    const sft = await post(sim, simKey, "/v1/deployments", body(pairs)).expect(422);
    expect(sft.body.error.details.problems).toEqual([
      expect.objectContaining({
        code: "DATASET_METHOD_MISMATCH",
        field: "hyperparameters.method",
        message: expect.stringContaining(
          'is preference_chat: choose a chat or prompt_completion dataset, or set hyperparameters.method "dpo"',
        ),
      }),
    ]);
    const onChat = await post(sim, simKey, "/v1/deployments", body(simDataset, dpo)).expect(422);
    expect(onChat.body.error.details.problems[0].message).toMatch(
      /^method dpo trains on rows \{prompt, chosen, rejected\}/,
    );
    expect(await sim.db.prisma.deployment.count()).toBe(before);
    await post(sim, simKey, "/v1/deployments", body(pairs, dpo)).expect(202);
  });

  it("schema errors stay 400 VALIDATION_FAILED", async () => {
    const res = await post(sim, simKey, "/v1/deployments/validate", { datasetId: "nope" }).expect(400);
    expect(res.body.error.code).toBe("VALIDATION_FAILED");
  });
});

describe("POST /v1/deployments/estimate", () => {
  it("answers expected and worst-case cost and the enforced cap", async () => {
    const res = await post(sim, simKey, "/v1/deployments/estimate", {
      gpuTypeIds: ["NVIDIA A40"],
      gpuCount: 2,
      expectedRuntimeMinutes: 30,
      maxRuntimeMinutes: 90,
      maxCostUsd: "1",
    }).expect(200);
    // $0.40 × 2 = $0.80/h: 30 min = $0.40; 90 min = $1.20, capped at $1
    expect(res.body.expected.costUsd).toBe("0.400000");
    expect(res.body.worstCase).toMatchObject({ costUsd: "1.000000", uncappedCostUsd: "1.200000" });
    expect(res.body.costCap).toMatchObject({
      maxCostUsd: "1.000000",
      bindingLimit: "maxCostUsd",
      budgetLastsMinutes: 75,
    });
  });

  it("needs an API key, refuses unknown fields and all-unknown GPU types", async () => {
    await request(sim.app)
      .post("/v1/deployments/estimate")
      .send({ gpuTypeIds: ["NVIDIA A40"] })
      .expect(401);
    await post(sim, simKey, "/v1/deployments/estimate", { gpuTypeIds: ["NVIDIA A40"], bogus: 1 }).expect(400);
    const res = await post(sim, simKey, "/v1/deployments/estimate", { gpuTypeIds: ["NVIDIA GTX 9999"] }).expect(422);
    expect(res.body.error.code).toBe("UNPROCESSABLE");
  });
});
