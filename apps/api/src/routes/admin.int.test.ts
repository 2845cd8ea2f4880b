import request from "supertest";
import { closeQueues, createQueues, createRedis, jobIds, type Queues, type Redis } from "@trainpod/core";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { TEST_REDIS_URL } from "../../../../test/support/test-redis";

let h: ApiHarness;
let adminKey: string;
let operatorKey: string;
let userKey: string;
let owner: { userId: string; datasetId: string };
let redis: Redis;
let queues: Queues;
const METRICS_TOKEN = "metrics-token-0123456789abcdef";

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

beforeAll(async () => {
  h = await startTestApi({ env: { METRICS_TOKEN } });
  adminKey = (await makeUser(h.db.prisma, { email: "ops@example.com", role: "ADMIN" })).key;
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

const ZERO = "00000000-0000-4000-8000-000000000000";
const routes: [method: "get" | "post", path: string][] = [
  ["get", "/v1/stats"],
  ["get", "/v1/admin/deployments"],
  ["post", `/v1/admin/deployments/${ZERO}/retry`],
  ["post", `/v1/admin/deployments/${ZERO}/cancel`],
  ["get", "/dashboard/"],
  ["get", "/dashboard/dashboard.js"],
  ["get", "/dashboard/vendor/chart.js"],
  ["get", "/admin/queues"],
  ["get", "/admin/queues/api/queues"],
  ["get", "/admin/queues/api/queues/deploy/jobs/x"],
  ["get", "/metrics"],
];

describe("admin-only access", () => {
  it.each(routes)(
    "%s %s: anonymous and bad credentials 401 with a Bearer challenge (never Basic: no browser prompt)",
    async (method, path) => {
      // an unknown session cookie on a POST is refused earlier, by the same-origin check (admin-session.int.test.ts)
      for (const auth of [
        undefined,
        "Bearer tp_live_nope",
        basic("ops@example.com", "wrong"),
        "Basic !!!",
        basic("x", ""),
        ...(method === "get" ? ["tp_admin=nope"] : []),
      ]) {
        const req = request(h.app)[method](path);
        if (auth?.startsWith("tp_admin=")) req.set("cookie", auth);
        else if (auth) req.set("authorization", auth);
        const res = await req;
        expect(res.status).toBe(401);
        expect(res.headers["www-authenticate"]).toBe('Bearer realm="trainpod admin"');
        expect(res.body.error.code).toBe("UNAUTHORIZED");
      }
    },
  );

  it.each(routes)(
    "%s %s: a non-admin user's key is 403 (Bearer, and Basic on reads; Basic on a POST is 401 whoever sends it)",
    async (method, path) => {
      if (method === "post")
        expect((await request(h.app).post(path).set("authorization", basic("user@example.com", userKey))).status).toBe(
          401,
        );
      for (const auth of method === "get"
        ? [`Bearer ${userKey}`, basic("user@example.com", userKey)]
        : [`Bearer ${userKey}`]) {
        const res = await request(h.app)[method](path).set("authorization", auth);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("FORBIDDEN");
      }
    },
  );

  it.each(routes.filter(([m]) => m === "get"))(
    "%s %s: an admin and an operator pass, Bearer or Basic (reads)",
    async (_m, path) => {
      for (const key of [adminKey, operatorKey]) {
        for (const auth of [`Bearer ${key}`, basic("anyone", key)]) {
          const res = await request(h.app).get(path).set("authorization", auth);
          expect([200, 301, 302, 404]).toContain(res.status);
          if (path !== "/admin/queues/api/queues/deploy/jobs/x") expect(res.status).toBeLessThan(400);
        }
      }
    },
  );

  it("Bull Board lists every queue of the job catalog to an admin", async () => {
    const res = await request(h.app)
      .get("/admin/queues/api/queues")
      .set("authorization", `Bearer ${adminKey}`)
      .expect(200);
    expect(res.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([
      "billing",
      "deploy",
      "maintenance",
      "monitor",
      "reconcile",
      "terminate",
      "webhook",
      "webhookScan",
    ]);
  });

  it("the dashboard serves Chart.js from node_modules, no CDN", async () => {
    const page = await request(h.app).get("/dashboard/").set("authorization", basic("a", adminKey)).expect(200);
    expect(page.text).toContain('src="/dashboard/vendor/chart.js"');
    expect(page.text).not.toMatch(/https?:\/\//);
    const js = await request(h.app)
      .get("/dashboard/vendor/chart.js")
      .set("authorization", basic("a", adminKey))
      .expect(200);
    expect(js.headers["content-type"]).toMatch(/javascript/);
    expect(js.text.length).toBeGreaterThan(100_000);
  });
});

describe("operators: read-only", () => {
  it("an operator's retry, cancel and Bull Board actions are 403 and change nothing", async () => {
    const failed = await makeDeployment(h.db.prisma, owner, { status: "FAILED", failureReason: "TRAINING_FAILED" });
    const live = await makeDeployment(h.db.prisma, owner, { status: "RUNNING", podId: "pod-operator-1" });
    const as = (method: "post" | "put", path: string) =>
      request(h.app)[method](path).set("authorization", `Bearer ${operatorKey}`);
    for (const [method, path] of [
      ["post", `/v1/admin/deployments/${failed.id}/retry`],
      ["post", `/v1/admin/deployments/${live.id}/cancel`],
      ["put", "/admin/queues/api/queues/deploy/pause"],
      ["put", "/admin/queues/api/queues/deploy/retry/failed"],
    ] as const) {
      const res = await as(method, path);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({
        path,
        status: 403,
        code: "FORBIDDEN",
      });
    }
    expect(await h.db.prisma.deployment.count({ where: { retryOfId: failed.id } })).toBe(0);
    expect((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: live.id } })).status).toBe("RUNNING");
    expect(await queues.deploy.isPaused()).toBe(false);
  });

  it("Bull Board is read-only for an operator, not for an admin; the deployments list says who may act", async () => {
    const board = async (key: string) =>
      (await request(h.app).get("/admin/queues/api/queues").set("authorization", `Bearer ${key}`).expect(200)).body
        .queues as Array<{ readOnlyMode: boolean }>;
    expect((await board(operatorKey)).every((q) => q.readOnlyMode)).toBe(true);
    expect((await board(adminKey)).some((q) => q.readOnlyMode)).toBe(false);
    const viewer = async (key: string) =>
      (await request(h.app).get("/v1/admin/deployments").set("authorization", `Bearer ${key}`).expect(200)).body.viewer;
    expect(await viewer(operatorKey)).toEqual({ role: "OPERATOR", canAct: false });
    expect(await viewer(adminKey)).toEqual({ role: "ADMIN", canAct: true });
  });
});

describe("retry and cancel", () => {
  const admin = (path: string) => request(h.app).post(path).set("authorization", `Bearer ${adminKey}`);

  it("retry of a FAILED deployment: a new QUEUED one from the same request, linked, enqueued; twice is once", async () => {
    const old = await makeDeployment(h.db.prisma, owner, {
      status: "FAILED",
      failureReason: "TRAINING_FAILED",
      hyperparameters: { steps: 7 },
      maxCostMicros: 3_500_000n,
      // GPU types a submission may name today: a retry passes every rule a submission passes (issue 34)
      gpuTypeIds: ["NVIDIA GeForce RTX 4090", "NVIDIA A40"],
    });
    const res = await admin(`/v1/admin/deployments/${old.id}/retry`).expect(202);
    expect(res.body).toMatchObject({
      status: "QUEUED",
      retryOfId: old.id,
      hyperparameters: { steps: 7 },
      gpuTypeIds: ["NVIDIA GeForce RTX 4090", "NVIDIA A40"],
      limits: { maxCostUsd: "3.500000" },
    });
    expect(res.body.id).not.toBe(old.id);
    const row = await h.db.prisma.deployment.findUniqueOrThrow({
      where: { id: res.body.id },
      include: { events: true },
    });
    expect(row).toMatchObject({
      userId: owner.userId,
      datasetId: owner.datasetId,
      retryOfId: old.id,
      status: "QUEUED",
    });
    expect(row.events.map((e) => e.type)).toEqual(["submitted"]);
    // its deploy job is enqueued, for this deployment
    expect((await queues.deploy.getJob(jobIds.deploy(res.body.id)))?.data).toEqual({ deploymentId: res.body.id });
    const again = await admin(`/v1/admin/deployments/${old.id}/retry`).expect(200);
    expect(again.body.id).toBe(res.body.id);
    expect(await h.db.prisma.deployment.count({ where: { retryOfId: old.id } })).toBe(1);
  });

  it("retry of a deployment that did not fail is 409 and writes nothing; unknown ids 404", async () => {
    const running = await makeDeployment(h.db.prisma, owner, { status: "RUNNING" });
    const before = await h.db.prisma.deployment.count();
    const res = await admin(`/v1/admin/deployments/${running.id}/retry`).expect(409);
    expect(res.body.error.code).toBe("CONFLICT");
    expect(await h.db.prisma.deployment.count()).toBe(before);
    await admin(`/v1/admin/deployments/${ZERO}/retry`).expect(404);
    await admin("/v1/admin/deployments/not-a-uuid/retry").expect(404);
  });

  it("cancel of any user's live deployment: CANCELLED, terminate enqueued; a second cancel is 409", async () => {
    const live = await makeDeployment(h.db.prisma, owner, { status: "RUNNING", podId: "pod-cancel-1" });
    const res = await admin(`/v1/admin/deployments/${live.id}/cancel`).expect(202);
    expect(res.body.status).toBe("CANCELLED");
    expect((await queues.terminate.getJob(jobIds.terminate(live.id)))?.data).toMatchObject({ deploymentId: live.id });
    const events = await h.db.prisma.deploymentEvent.findMany({ where: { deploymentId: live.id } });
    expect(events.map((e) => e.type)).toEqual(["cancelled"]);
    await admin(`/v1/admin/deployments/${live.id}/cancel`).expect(409);
  });

  it("lists every user's deployments by status (LIVE = not yet finished) with the last log lines", async () => {
    await makeDeployment(h.db.prisma, owner, {
      status: "FAILED",
      failureReason: "TRAINING_FAILED",
      failureMessage: "train failed with exit code 3\nline a\nline b",
      exitCode: 3,
    });
    const failed = await request(h.app)
      .get("/v1/admin/deployments?status=FAILED")
      .set("authorization", `Bearer ${adminKey}`)
      .expect(200);
    const hit = failed.body.items.find((d: { exitCode: number | null }) => d.exitCode === 3);
    expect(hit).toMatchObject({
      userId: owner.userId,
      lastLogLines: ["train failed with exit code 3", "line a", "line b"],
    });
    const live = await request(h.app)
      .get("/v1/admin/deployments?status=LIVE")
      .set("authorization", `Bearer ${adminKey}`)
      .expect(200);
    expect(
      live.body.items.every((d: { status: string }) => ["QUEUED", "PROVISIONING", "RUNNING"].includes(d.status)),
    ).toBe(true);
    await request(h.app)
      .get("/v1/admin/deployments?status=NOPE")
      .set("authorization", `Bearer ${adminKey}`)
      .expect(400);
  });
});

describe("GET /metrics", () => {
  it("answers Prometheus text to METRICS_TOKEN or an admin: queue depth per queue, deployments by status", async () => {
    for (const auth of [`Bearer ${METRICS_TOKEN}`, `Bearer ${adminKey}`]) {
      const res = await request(h.app).get("/metrics").set("authorization", auth).expect(200);
      expect(res.headers["content-type"]).toMatch(/^text\/plain/);
      for (const q of ["deploy", "terminate", "monitor", "reconcile", "maintenance"])
        expect(res.text).toContain(`trainpod_queue_jobs{queue="${q}",state="waiting",service="api"}`);
      expect(res.text).toMatch(/trainpod_deployments\{status="FAILED",service="api"\} [1-9]/);
      expect(res.text).toContain("# TYPE trainpod_runpod_api_call_duration_seconds histogram");
      expect(res.text).toContain("# TYPE trainpod_failure_to_termination_seconds histogram");
    }
    await request(h.app).get("/metrics").set("authorization", `Bearer ${METRICS_TOKEN}x`).expect(401);
  });
});
