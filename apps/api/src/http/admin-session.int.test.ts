/**
 * CSRF on the admin screens, at the HTTP level: the login's session cookie, the same-origin check on
 * everything that changes state (Bull Board included), Basic for reads only, Bearer unaffected, and
 * the session's ends (logout, idle, absolute, revoked key). The browser's view: test/e2e/csrf.browser.test.ts.
 */
import { createHash } from "node:crypto";
import request from "supertest";
import {
  closeQueues,
  createQueues,
  createRedis,
  createUserWithKey,
  ManualClock,
  revokeApiKey,
  type Queues,
  type Redis,
} from "@trainpod/core";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { TEST_REDIS_URL } from "../../../../test/support/test-redis";

const IDLE_MIN = 5;
const MAX_HOURS = 1;
const KEY_TTL_MS = 2_000;
const clock = new ManualClock(Date.now());
let h: ApiHarness;
let admin: { key: string; apiKeyId: string };
let operatorKey: string;
let userKey: string;
let owner: { userId: string; datasetId: string };
let redis: Redis;
let queues: Queues;

const basic = (key: string) => `Basic ${Buffer.from(`ops:${key}`).toString("base64")}`;
const SAME = { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" };
const api = () => request(h.url);

beforeAll(async () => {
  const env = {
    ADMIN_SESSION_IDLE_MINUTES: String(IDLE_MIN),
    ADMIN_SESSION_MAX_HOURS: String(MAX_HOURS),
    API_KEY_CACHE_TTL_MS: String(KEY_TTL_MS),
    TRUST_PROXY: "true",
  };
  h = await startTestApi({ clock, env });
  const a = await createUserWithKey(h.db.prisma, { email: "ops@example.com", role: "ADMIN" });
  admin = { key: a.key, apiKeyId: a.apiKey.id };
  operatorKey = (await makeUser(h.db.prisma, { email: "operator@example.com", role: "OPERATOR" })).key;
  const u = await makeUser(h.db.prisma, { email: "user@example.com" });
  userKey = u.key;
  owner = { userId: u.user.id, datasetId: (await makeDataset(h.db.prisma, u.user.id)).id };
  redis = createRedis(TEST_REDIS_URL, { failFast: true });
  queues = createQueues(redis, h.config.env.QUEUE_PREFIX);
});
afterAll(async () => {
  if (queues) await closeQueues(queues);
  redis?.disconnect();
  await h?.close();
});

/** Logs in (JSON, from our own origin); answers the `tp_admin=<id>` cookie pair and the whole Set-Cookie line. */
async function login(
  key = admin.key,
  headers: Record<string, string> = SAME,
): Promise<{ cookie: string; setCookie: string }> {
  const res = await api().post("/admin/login").set(headers).send({ key }).expect(204);
  const setCookie =
    ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((c) => c.startsWith("tp_admin=")) ?? "";
  return { cookie: setCookie.split(";")[0] ?? "", setCookie };
}

const live = () =>
  makeDeployment(h.db.prisma, owner, { status: "RUNNING", podId: `pod-${Math.random().toString(36).slice(2)}` });
const statusOf = async (id: string) => (await h.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).status;
const jobsIn = async () => Object.values(await queues.maintenance.getJobCounts()).reduce((a, b) => a + b, 0);
const sessionKeys = () => redis.keys(`${h.config.env.QUEUE_PREFIX}:admin-session:*`);

describe("login", () => {
  it("an admin's key from our own origin: 204 and an HttpOnly, SameSite=Strict cookie, Secure over HTTPS; Redis keeps only the id's hash", async () => {
    const before = await sessionKeys();
    const { cookie, setCookie } = await login();
    expect(setCookie).toMatch(/; Path=\/;/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).not.toMatch(/; Secure/);
    const id = cookie.slice("tp_admin=".length);
    const added = (await sessionKeys()).filter((k) => !before.includes(k));
    expect(added).toEqual([
      `${h.config.env.QUEUE_PREFIX}:admin-session:${createHash("sha256").update(id).digest("hex")}`,
    ]);
    expect(await redis.get(added[0] ?? "")).not.toContain(id);
    const https = await login(admin.key, { ...SAME, "x-forwarded-proto": "https" });
    expect(https.setCookie).toMatch(/; Secure/);
  });

  it("refused from another origin, from a script with no origin, for a bad key (401) and a user's key (403); no cookie", async () => {
    for (const headers of [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: "http://evil.example" },
      {},
    ]) {
      const res = await api().post("/admin/login").set(headers).send({ key: admin.key });
      expect({ headers, status: res.status, code: res.body.error?.code, cookie: res.headers["set-cookie"] }).toEqual({
        headers,
        status: 403,
        code: "FORBIDDEN",
        cookie: undefined,
      });
    }
    const bad = await api().post("/admin/login").set(SAME).send({ key: "tp_live_nope" });
    expect([bad.status, bad.body.error?.code, bad.headers["set-cookie"]]).toEqual([401, "UNAUTHORIZED", undefined]);
    const user = await api().post("/admin/login").set(SAME).send({ key: userKey });
    expect([user.status, user.body.error?.code, user.headers["set-cookie"]]).toEqual([403, "FORBIDDEN", undefined]);
  });

  it("a browser opening a screen without a session is sent to the login page (no Basic prompt); the form logs in and goes back", async () => {
    const nav = { "sec-fetch-mode": "navigate", "sec-fetch-site": "none", accept: "text/html" };
    const dash = await api().get("/dashboard/").set(nav).expect(303);
    expect(dash.headers.location).toBe("/admin/login?next=%2Fdashboard%2F");
    expect((await api().get("/admin/queues/").set(nav).expect(303)).headers.location).toBe(
      "/admin/login?next=%2Fadmin%2Fqueues%2F",
    );
    const page = await api().get("/admin/login?next=%2Fadmin%2Fqueues%2F").expect(200);
    expect(page.text).toContain('<form method="post" action="/admin/login">');
    expect(page.text).toContain('value="/admin/queues/"');
    expect(page.text).not.toMatch(/<script/i);
    const form = { ...nav, "sec-fetch-site": "same-origin", origin: h.url };
    const ok = await api()
      .post("/admin/login")
      .set(form)
      .type("form")
      .send({ key: admin.key, next: "https://evil.example/" })
      .expect(303);
    expect(ok.headers.location).toBe("/dashboard/");
    const wrong = await api()
      .post("/admin/login")
      .set(form)
      .type("form")
      .send({ key: "tp_live_nope", next: "/admin/queues/" })
      .expect(401);
    expect(wrong.text).toContain("That key is unknown or revoked.");
    // a script without a session: 401 with a Bearer challenge, never Basic
    const anon = await api().get("/v1/stats").expect(401);
    expect(anon.headers["www-authenticate"]).toBe('Bearer realm="trainpod admin"');
  });
});

describe("state-changing requests", () => {
  it("cookie from another origin (cross-site, same-site, bad Origin, no origin at all): 403, nothing cancelled, no job added", async () => {
    const { cookie } = await login();
    const d = await live();
    const jobs = await jobsIn();
    for (const headers of [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "none" },
      { origin: "http://127.0.0.1:1" },
      { origin: "null" },
      {},
    ]) {
      const cancel = await api()
        .post(`/v1/admin/deployments/${d.id}/cancel`)
        .set({ cookie, ...headers });
      expect({ headers, status: cancel.status, code: cancel.body.error?.code }).toEqual({
        headers,
        status: 403,
        code: "FORBIDDEN",
      });
      const add = await api()
        .post("/admin/queues/api/queues/maintenance/add")
        .set({ cookie, ...headers })
        .send({ name: "csrf", data: {} });
      expect({ headers, status: add.status, code: add.body.error?.code }).toEqual({
        headers,
        status: 403,
        code: "FORBIDDEN",
      });
      const pause = await api()
        .put("/admin/queues/api/queues/deploy/pause")
        .set({ cookie, ...headers });
      expect({ headers, status: pause.status }).toEqual({ headers, status: 403 });
    }
    expect(await statusOf(d.id)).toBe("RUNNING");
    expect(await jobsIn()).toBe(jobs);
    expect(await queues.deploy.isPaused()).toBe(false);
  });

  it("cookie from our own origin (Sec-Fetch-Site, or Origin = the request's own or PUBLIC_URL's): accepted", async () => {
    const { cookie } = await login();
    const jobs = await jobsIn();
    await api()
      .post(`/v1/admin/deployments/${(await live()).id}/cancel`)
      .set({ cookie, ...SAME })
      .expect(202);
    await api()
      .post(`/v1/admin/deployments/${(await live()).id}/cancel`)
      .set({ cookie, origin: h.url, host: "api-3.internal:8080" })
      .expect(202);
    await api()
      .post(`/v1/admin/deployments/${(await live()).id}/cancel`)
      .set({ cookie, origin: "https://trainpod.example", host: "trainpod.example", "x-forwarded-proto": "https" })
      .expect(202);
    await api()
      .post("/admin/queues/api/queues/maintenance/add")
      .set({ cookie, ...SAME })
      .send({ name: "same-origin", data: {} })
      .expect(200);
    expect(await jobsIn()).toBe(jobs + 1);
  });

  it("an operator's session reads but may not act, even from our own origin", async () => {
    const { cookie } = await login(operatorKey);
    await api().get("/v1/admin/deployments").set({ cookie }).expect(200);
    const d = await live();
    const res = await api()
      .post(`/v1/admin/deployments/${d.id}/cancel`)
      .set({ cookie, ...SAME });
    expect([res.status, res.body.error?.code]).toEqual([403, "FORBIDDEN"]);
    expect(await statusOf(d.id)).toBe("RUNNING");
  });

  it("HTTP Basic: reads only; a POST or PUT with it is 401 pointing to Bearer or the login, and changes nothing", async () => {
    await api().get("/v1/admin/deployments").set("authorization", basic(admin.key)).expect(200);
    const d = await live();
    const res = await api()
      .post(`/v1/admin/deployments/${d.id}/cancel`)
      .set("authorization", basic(admin.key))
      .set(SAME);
    expect([res.status, res.body.error?.code]).toEqual([401, "UNAUTHORIZED"]);
    expect(res.body.error.message).toMatch(/Bearer.*\/admin\/login/);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="trainpod admin"');
    const pause = await api().put("/admin/queues/api/queues/deploy/pause").set("authorization", basic(admin.key));
    expect(pause.status).toBe(401);
    expect(await statusOf(d.id)).toBe("RUNNING");
    expect(await queues.deploy.isPaused()).toBe(false);
  });

  it("Bearer: no ambient credential, so no origin check (a script sends none)", async () => {
    await api()
      .post(`/v1/admin/deployments/${(await live()).id}/cancel`)
      .set("authorization", `Bearer ${admin.key}`)
      .expect(202);
    await api()
      .post(`/v1/admin/deployments/${(await live()).id}/cancel`)
      .set("authorization", `Bearer ${admin.key}`)
      .set("origin", "http://elsewhere.example")
      .expect(202);
  });
});

describe("the session ends", () => {
  const reads = (cookie: string) => api().get("/v1/admin/deployments").set({ cookie });

  it("at logout: the cookie is cleared and the session deleted (a logout from another origin is refused)", async () => {
    const { cookie } = await login();
    await reads(cookie).expect(200);
    await api().post("/admin/logout").set({ cookie, "sec-fetch-site": "cross-site" }).expect(403);
    await reads(cookie).expect(200);
    const out = await api()
      .post("/admin/logout")
      .set({ cookie, ...SAME })
      .expect(204);
    expect(String(out.headers["set-cookie"])).toMatch(/^tp_admin=;.*Expires=Thu, 01 Jan 1970/);
    const after = await reads(cookie).expect(401);
    expect(after.body.error.code).toBe("UNAUTHORIZED");
  });

  it(`after ${IDLE_MIN} minutes unused, and ${MAX_HOURS} hour after the login however busy`, async () => {
    const idle = await login();
    clock.advance(IDLE_MIN * 60_000 - 1_000);
    await reads(idle.cookie).expect(200);
    clock.advance(IDLE_MIN * 60_000 - 1_000);
    await reads(idle.cookie).expect(200);
    clock.advance(IDLE_MIN * 60_000 + 1_000);
    await reads(idle.cookie).expect(401);

    // used every 4 minutes up to minute 56, then at minute 60 and a second: 4 minutes idle, but an hour old
    const busy = await login();
    for (let minute = 4; minute < MAX_HOURS * 60; minute += 4) {
      clock.advance(4 * 60_000);
      await reads(busy.cookie).expect(200);
    }
    clock.advance(4 * 60_000 + 1_000);
    await reads(busy.cookie).expect(401);
  });

  it("when its API key is revoked: within API_KEY_CACHE_TTL_MS, and the session is deleted", async () => {
    const k = await createUserWithKey(h.db.prisma, { email: "revoked-admin@example.com", role: "ADMIN" });
    const { cookie } = await login(k.key);
    await reads(cookie).expect(200);
    const before = (await sessionKeys()).length;
    await revokeApiKey(h.db.prisma, clock, { apiKeyId: k.apiKey.id });
    clock.advance(KEY_TTL_MS + 1);
    await reads(cookie).expect(401);
    expect((await sessionKeys()).length).toBe(before - 1);
  });
});

it("Bull Board's answers do not say X-Powered-By", async () => {
  const res = await api().get("/admin/queues/api/queues").set("authorization", `Bearer ${admin.key}`).expect(200);
  expect(res.headers["x-powered-by"]).toBeUndefined();
  const page = await api().get("/admin/queues/").set("authorization", `Bearer ${admin.key}`).expect(200);
  expect(page.headers["x-powered-by"]).toBeUndefined();
});
