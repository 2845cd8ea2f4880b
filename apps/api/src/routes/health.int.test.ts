import request from "supertest";
import { createApp } from "../app";
import { createContainer, type ApiContainer } from "../container";
import { useTestDatabase } from "../../../../test/support/test-db";
import { captureLogger, testConfig } from "../../../../test/support/test-config";
import { deletePrefix, testQueuePrefix, TEST_REDIS_URL } from "../../../../test/support/test-redis";

const db = useTestDatabase();
const prefix = testQueuePrefix();
const containers: ApiContainer[] = [];

afterAll(async () => {
  for (const c of containers) await c.close();
  await deletePrefix(prefix);
});

function appWith(redisUrl: string) {
  const config = testConfig({ databaseUrl: db.url, queuePrefix: prefix });
  const container = createContainer(config, { logger: captureLogger().logger, prisma: db.prisma, redisUrl });
  container.redis.on("error", () => undefined);
  containers.push(container);
  return { app: createApp(container) };
}

describe("health routes", () => {
  it("/healthz answers while the process is up", async () => {
    const { app } = appWith(TEST_REDIS_URL);
    const res = await request(app).get("/healthz").expect(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers["x-request-id"]).toMatch(/[0-9a-f-]{36}/);
  });

  it("/readyz is ready when Postgres and Redis answer", async () => {
    const { app } = appWith(TEST_REDIS_URL);
    const res = await request(app).get("/readyz").expect(200);
    expect(res.body.checks).toEqual({ postgres: { ok: true }, redis: { ok: true } });
  });

  it("/readyz reports a down Redis as not ready (503)", async () => {
    const { app } = appWith("redis://127.0.0.1:1"); // nothing listens on port 1
    const res = await request(app).get("/readyz").expect(503);
    expect(res.body.status).toBe("not_ready");
    expect(res.body.checks.postgres.ok).toBe(true);
    expect(res.body.checks.redis.ok).toBe(false);
  });

  it("unknown routes get a JSON 404 and bad JSON a JSON 400", async () => {
    const { app } = appWith(TEST_REDIS_URL);
    const nf = await request(app).get("/nope").expect(404);
    expect(nf.body.error.code).toBe("NOT_FOUND");
    const bad = await request(app)
      .post("/v1/anything")
      .set("content-type", "application/json")
      .send("{not json")
      .expect(400);
    expect(bad.body.error).toMatchObject({ code: "BAD_REQUEST", message: "request body is not valid JSON" });
  });
});
