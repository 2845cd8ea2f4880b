/**
 * Issue 34, findings 3 and 4, over real HTTP: image references are parsed by the distribution grammar and
 * normalized before the allowlist, `baseModel` is a hub repo id or an absolute path, and no string a request
 * schema accepts may carry a control character. Every refusal is a 4xx in our JSON shape that writes nothing,
 * and `/v1/deployments/validate` answers exactly what a submission would.
 */
import request from "supertest";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeUser } from "../../../../test/factories";

let h: ApiHarness;
let key: string;
let adminKey: string;
let userId: string;
let datasetId: string;

beforeAll(async () => {
  h = await startTestApi({ env: { ALLOWED_IMAGES: "runpod/*" } });
  const u = await makeUser(h.db.prisma, { email: "input@example.com" });
  key = u.key;
  userId = u.user.id;
  datasetId = (await makeDataset(h.db.prisma, u.user.id)).id;
  adminKey = (await makeUser(h.db.prisma, { email: "admin@example.com", role: "ADMIN" })).key;
});
afterAll(async () => {
  await h?.close();
});

const body = (over: Record<string, unknown>) => ({
  datasetId,
  baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
  gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
  hyperparameters: { steps: 1 },
  ...over,
});
const post = (path: string, b: object) =>
  request(h.app).post(path).set("authorization", `Bearer ${key}`).set("content-type", "application/json").send(b);
const count = () => h.db.prisma.deployment.count();

/** The same body to /validate and to submit: the same refusal from both, nothing written. */
async function refusedAlike(b: object): Promise<{ status: number; code: string; problems: unknown }> {
  const before = await count();
  const validated = await post("/v1/deployments/validate", b);
  const submitted = await post("/v1/deployments", b);
  const answer = (r: request.Response) => ({
    status: r.status,
    code: r.body?.error?.code as string,
    problems: r.body?.error?.details?.problems ?? r.body?.error?.details,
  });
  expect(answer(submitted)).toEqual(answer(validated));
  expect(await count()).toBe(before);
  return answer(submitted);
}

const problem = (code: string, field: string, message: RegExp) => [
  { code, field, message: expect.stringMatching(message) },
];

describe("image references (finding 3)", () => {
  const malformed: Array<[string, RegExp]> = [
    ["runpod/pytorch:2.4 ", /space at position 19/],
    ["runpod/pytorch:2.4\t", /control character U\+0009 at position 19/],
    ["runpod/pytorch:2.4\n", /control character U\+000A at position 19/],
    ["runpod/pytorch:2.4\u200b", /non-ASCII character U\+200B at position 19/],
    [" runpod/pytorch:2.4", /space at position 1/],
    ["runpod/PyTorch:2.4", /"PyTorch" .*lowercase/],
    ["runpod//miner", /empty path component/],
    ["runpod/miner/", /empty path component/],
    ["runpod/*", /"\*" may hold only/],
    ["runpod/{a,b}", /"\{a,b\}" may hold only/],
    ["runpod/pytorch:$(id)", /tag "\$\(id\)"/],
    [`runpod/pytorch:${"a".repeat(200)}`, /tag is 200 characters; at most 128/],
    ["runpod/pytorch:", /empty tag/],
    ["runpod/pytorch@sha256:abc", /digest/],
    ["runpod/py..torch", /"py\.\.torch" may hold only/],
    ["runpod/pytorch:2.4\u0000", /control character U\+0000 at position 19/],
  ];
  it.each(malformed)("%j is 422 IMAGE_INVALID with the reason, on /validate and on submit", async (image, why) => {
    expect(await refusedAlike(body({ image }))).toEqual({
      status: 422,
      code: "PREFLIGHT_FAILED",
      problems: problem("IMAGE_INVALID", "image", why),
    });
  });

  it("a well-formed reference is normalized before the allowlist and stored so; other registries stay refused", async () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    for (const [image, stored] of [
      ["docker.io/runpod/pytorch:2.4", "runpod/pytorch:2.4"],
      ["index.docker.io/runpod/pytorch", "runpod/pytorch"],
      [`runpod/pytorch@${digest}`, `runpod/pytorch@${digest}`],
      ["runpod/py_torch-x.y:2.4.0-cu121_A", "runpod/py_torch-x.y:2.4.0-cu121_A"],
    ]) {
      const res = await post("/v1/deployments", body({ image }));
      expect([image, res.status]).toEqual([image, 202]);
      const row = await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: res.body.id } });
      expect(row.imageName).toBe(stored);
    }
    for (const image of ["ghcr.io/runpod/pytorch:2.4", "localhost:5000/runpod/x", "RunPod/pytorch", "runpod.io/x"]) {
      expect([image, await refusedAlike(body({ image }))]).toEqual([
        image,
        { status: 422, code: "PREFLIGHT_FAILED", problems: problem("IMAGE_NOT_ALLOWED", "image", /allowed: runpod/) },
      ]);
    }
  });
});

describe("baseModel (finding 3)", () => {
  it("a hub repo id or an absolute path on the pod is accepted", async () => {
    for (const baseModel of ["gpt2", "meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-0.5B_x", "/workspace/models/llama-3"]) {
      const res = await post("/v1/deployments", body({ baseModel }));
      expect([baseModel, res.status]).toEqual([baseModel, 202]);
    }
  });

  it.each([
    ["a b", /space at position 2/],
    ["m\n", /control character U\+000A/],
    ["m\u0000", /control character U\+0000/],
    ["x;rm -rf /", /hub repo id/],
    ["$(id)", /hub repo id/],
    ["`id`", /hub repo id/],
    ["org/name/extra", /hub repo id/],
    ["-bad", /hub repo id/],
    ["a--b", /hub repo id/],
    ["owner/name.git", /hub repo id/],
    [`owner/${"n".repeat(97)}`, /hub repo id/],
    ["../etc/passwd", /hub repo id/],
    ["/tmp/../etc", /absolute path/],
    ["/tmp//x", /absolute path/],
    ["/tmp/a b", /space/],
  ])("%j is 422 BASE_MODEL_INVALID with the reason", async (baseModel, why) => {
    expect(await refusedAlike(body({ baseModel }))).toEqual({
      status: 422,
      code: "PREFLIGHT_FAILED",
      problems: problem("BASE_MODEL_INVALID", "baseModel", why),
    });
  });
});

describe("control characters in every string a request schema accepts (finding 4)", () => {
  it.each([
    ["gpuTypeIds", { gpuTypeIds: ["NVIDIA A40\u0000"] }, 400],
    ["gpuTypeIds (a tab)", { gpuTypeIds: ["NVIDIA\tA40"] }, 400],
    ["hyperparameters.sim_error", { hyperparameters: { steps: 1, sim_error: "boom\u0000" } }, 422],
    ["hyperparameters.sim_error (ESC)", { hyperparameters: { steps: 1, sim_error: "\u001b[31mred" } }, 422],
    ["dataCenterIds", { dataCenterIds: ["US-TX-3\u0000"] }, 400],
    ["maxCostUsd", { maxCostUsd: "1\u0000" }, 400],
  ])("%s: refused (%j), never a 5xx, /validate and submit alike", async (_field, over, status) => {
    const answer = await refusedAlike(body(over));
    expect(answer.status).toBe(status);
  });

  it("the cost estimate and an admin's image patterns refuse them too", async () => {
    const estimate = await post("/v1/deployments/estimate", {
      gpuTypeIds: ["NVIDIA GeForce RTX 4090\u0000"],
    });
    expect([estimate.status, estimate.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
    const limits = await request(h.app)
      .put(`/v1/admin/users/${userId}/limits`)
      .set("authorization", `Bearer ${adminKey}`)
      .send({ extraImages: ["myorg/*\u0000"] });
    expect([limits.status, limits.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
    expect(await h.db.prisma.userLimits.count({ where: { userId } })).toBe(0);
  });
});
