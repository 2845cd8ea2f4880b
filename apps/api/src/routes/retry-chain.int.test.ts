/**
 * Issue 28 review, finding 5 (money): a FAILED attempt whose automatic resume (issue 27, the resumeOfId chain) has a
 * live attempt already is not retried: a retry would run the same job on a second pod. The user's and the admin's
 * retry both answer 409 naming the live attempt, and write nothing; once the chain has no live attempt, it retries.
 */
import request from "supertest";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";

let h: ApiHarness;
let adminKey: string;
let c0 = 0;

beforeAll(async () => {
  h = await startTestApi();
  adminKey = (await makeUser(h.db.prisma, { email: "ops@example.com", role: "ADMIN" })).key;
});
afterAll(async () => {
  await h?.close();
});

async function chain() {
  const u = await makeUser(h.db.prisma);
  const o = { userId: u.user.id, datasetId: (await makeDataset(h.db.prisma, u.user.id)).id };
  const ended = { status: "FAILED" as const, failureReason: "POD_VANISHED" as const, podTerminatedAt: new Date() };
  const first = await makeDeployment(h.db.prisma, o, { ...ended, autoResumeMaxAttempts: 3 });
  const second = await makeDeployment(h.db.prisma, o, { ...ended, resumeOfId: first.id, attempt: 2 });
  // the automatic resume's third attempt: running on its pod now
  const third = await makeDeployment(h.db.prisma, o, {
    status: "RUNNING",
    resumeOfId: second.id,
    attempt: 3,
    podId: `pod-${c0++}`,
  });
  return { key: u.key, first, second, third };
}

const retry = (key: string, path: string) => request(h.app).post(path).set("authorization", `Bearer ${key}`);

it("a retry of any earlier attempt while a later one is live is 409, for the user and the admin, writing nothing", async () => {
  const c = await chain();
  const before = await h.db.prisma.deployment.count();
  for (const [key, path] of [
    [c.key, `/v1/deployments/${c.first.id}/retry`],
    [c.key, `/v1/deployments/${c.second.id}/retry`],
    [adminKey, `/v1/admin/deployments/${c.first.id}/retry`],
  ] as const) {
    const res = await retry(key, path);
    expect([res.status, res.body.error?.code]).toEqual([409, "CONFLICT"]);
    expect(res.body.error.message).toMatch(new RegExp(`attempt ${c.third.id} \\(RUNNING\\)`));
    expect(res.body.error.details).toEqual({ liveAttemptId: c.third.id, status: "RUNNING" });
  }
  expect(await h.db.prisma.deployment.count()).toBe(before);
});

it("an ended attempt whose pod is still being terminated counts as live; once the chain has none, the retry goes", async () => {
  const c = await chain();
  await h.db.prisma.deployment.update({ where: { id: c.third.id }, data: { status: "FAILED" } });
  expect((await retry(c.key, `/v1/deployments/${c.first.id}/retry`)).status).toBe(409);
  await h.db.prisma.deployment.update({ where: { id: c.third.id }, data: { podTerminatedAt: new Date() } });
  const res = await retry(c.key, `/v1/deployments/${c.first.id}/retry`);
  expect(res.status).toBe(202);
  expect(res.body.id).not.toBe(c.first.id);
});
