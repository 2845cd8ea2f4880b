/**
 * The pod's routes (/v1/runs/:id/...): every request is counted per client IP before its run token is checked
 * (RATE_LIMIT_PER_MINUTE; requests whose token holds are given back, they count per deployment), the token is
 * checked before any body is read, and the per-deployment limit (RATE_LIMIT_RUN_PER_MINUTE) counts
 * authenticated requests only. Security review, finding 2.
 */
import { randomUUID } from "node:crypto";
import { createUserWithKey, mintRunToken } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { deletePrefix } from "../../../../test/support/test-redis";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

const PER_IP = 5;
const PER_DEPLOYMENT = 3;
let h: ApiHarness;
let owner: { id: string; dataset: string };

beforeAll(async () => {
  h = await startTestApi({
    env: { RATE_LIMIT_PER_MINUTE: String(PER_IP), RATE_LIMIT_RUN_PER_MINUTE: String(PER_DEPLOYMENT) },
  });
  const u = await createUserWithKey(h.db.prisma, { email: "pods@example.com" });
  owner = { id: u.user.id, dataset: (await makeDataset(h.db.prisma, u.user.id)).id };
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await deletePrefix(`${h.config.env.QUEUE_PREFIX}:rl`); // every test starts with empty counters
});

async function run(): Promise<{ id: string; token: string }> {
  const id = await insertDeployment(h, owner.id, owner.dataset);
  const { token } = await mintRunToken({ prisma: h.db.prisma, clock: h.clock, config: h.config }, { deploymentId: id });
  return { id, token };
}

const event = (id: string, token: string, body = JSON.stringify({ type: "log", lines: ["hi"] })) =>
  fetch(`${h.url}/v1/runs/${id}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body,
  });

async function statusAndCode(res: Response): Promise<[number, string | undefined]> {
  const body = (await res.json()) as { error?: { code: string } };
  return [res.status, body.error?.code];
}

describe("the pod's routes, per client IP, before the run token", () => {
  it("random deployment ids from one IP: 401 each, then 429 RATE_LIMITED with Retry-After once the IP's limit is spent", async () => {
    const seen: Array<[number, string | undefined]> = [];
    for (let i = 0; i < PER_IP; i += 1)
      seen.push(await statusAndCode(await event(randomUUID(), `tp_run_${randomUUID()}`)));
    expect(seen).toEqual(Array.from({ length: PER_IP }, () => [401, "TOKEN_INVALID"]));
    for (const path of [
      `/v1/runs/${randomUUID()}/events`,
      `/v1/runs/${randomUUID()}/artifacts`,
      `/V1/RUNS/${randomUUID()}/events`,
    ]) {
      const res = await fetch(`${h.url}${path}`, {
        method: "POST",
        headers: { authorization: "Bearer tp_run_x", "content-type": "application/json" },
        body: "{}",
      });
      expect([path, res.status]).toEqual([path, 429]);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await res.json()).toEqual({
        error: { code: "RATE_LIMITED", message: expect.any(String), details: { limit: PER_IP, windowSeconds: 60 } },
      });
    }
  });

  it("requests whose token holds are not held against the IP: many pods behind one address each get their own deployment's limit", async () => {
    const pods = [await run(), await run(), await run()];
    const statuses: number[] = [];
    for (const pod of pods)
      for (let i = 0; i < PER_DEPLOYMENT; i += 1) statuses.push((await event(pod.id, pod.token)).status);
    // 9 requests from one address, over the per-IP limit of 5: all accepted
    expect(statuses).toEqual(Array.from({ length: pods.length * PER_DEPLOYMENT }, () => 202));
  });
});

describe("the pod's routes, per deployment, after the run token", () => {
  it("counts one deployment's authenticated requests: the next is 429, another deployment is not affected", async () => {
    const [a, b] = [await run(), await run()];
    const first = [];
    for (let i = 0; i < PER_DEPLOYMENT; i += 1) first.push((await event(a.id, a.token)).status);
    expect(first).toEqual([202, 202, 202]);
    const refused = await event(a.id, a.token);
    expect(await statusAndCode(refused)).toEqual([429, "RATE_LIMITED"]);
    expect((await event(b.id, b.token)).status).toBe(202);
  });

  it("a bad token for a real deployment does not spend that deployment's limit", async () => {
    const a = await run();
    for (let i = 0; i < PER_IP - 1; i += 1)
      expect(await statusAndCode(await event(a.id, `tp_run_${randomUUID()}`))).toEqual([401, "TOKEN_INVALID"]);
    const ok = [];
    for (let i = 0; i < PER_DEPLOYMENT; i += 1) ok.push((await event(a.id, a.token)).status);
    expect(ok).toEqual([202, 202, 202]);
  });
});

describe("the run token is checked before the body is read", () => {
  const malformed = `{"type":"log","lines":["${"x".repeat(200 * 1024)}"`; // 200 KB, never closed: not JSON

  it("an unauthenticated 200 KB body that is not JSON answers 401 (its token), not 400 (its body)", async () => {
    expect(await statusAndCode(await event(randomUUID(), "tp_run_not-a-token", malformed))).toEqual([
      401,
      "TOKEN_INVALID",
    ]);
    const anonymous = await fetch(`${h.url}/v1/runs/${randomUUID()}/artifacts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: malformed,
    });
    expect(await statusAndCode(anonymous)).toEqual([401, "UNAUTHORIZED"]);
  });

  it("with the deployment's token the same body is parsed: 400 not JSON; over 256 kB 413", async () => {
    const a = await run();
    expect(await statusAndCode(await event(a.id, a.token, malformed))).toEqual([400, "BAD_REQUEST"]);
    expect(
      await statusAndCode(await event(a.id, a.token, JSON.stringify({ type: "log", lines: ["y".repeat(300 * 1024)] }))),
    ).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  });
});
