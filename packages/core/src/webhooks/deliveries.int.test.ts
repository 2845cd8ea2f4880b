/**
 * Deliveries against a real database and real sockets: the scan makes one per endpoint and finished job (never two,
 * nothing for an event type not asked for or a job that ended before the endpoint existed); a dead endpoint's
 * attempts are recorded and end `failed` at the last; a delivered one is never sent again.
 */
import http from "node:http";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { useTestDatabase } from "../../../../test/support/test-db";
import { parseSecretsKeyring } from "../secrets/keyring";
import { ManualClock } from "../time/clock";
import { deliverWebhook, scanWebhookDeliveries } from "./deliveries";
import { createEndpoint } from "./endpoints";

const db = useTestDatabase();
const clock = new ManualClock(Date.now());
const keyring = parseSecretsKeyring({ developmentFallback: true });
const policy = { requireHttps: false, allowPrivate: true };
let hits = 0;
const server = http.createServer((req, res) => {
  hits += 1;
  req.resume();
  req.on("end", () => res.end());
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});
afterAll(() => new Promise((r) => server.close(r)));

it("one delivery per endpoint and outcome; a dead endpoint's attempts recorded until failed; none sent twice", async () => {
  const { user } = await makeUser(db.prisma, { email: "hooks@example.com" });
  const owner = { userId: user.id, datasetId: (await makeDataset(db.prisma, user.id)).id };
  const early = await makeDeployment(db.prisma, owner, {
    status: "SUCCEEDED",
    finishedAt: new Date(clock.now().getTime() - 60_000),
  });
  const deps = { prisma: db.prisma, clock, keyring, policy };
  const port = (server.address() as { port: number }).port;
  const live = await createEndpoint(deps, user.id, {
    url: `http://127.0.0.1:${port}/h`,
    event_types: ["fine_tuning.job.succeeded"],
  });
  const dead = await createEndpoint(deps, user.id, { url: "http://127.0.0.1:1/h" });
  clock.advance(1000);
  const ok = await makeDeployment(db.prisma, owner, { status: "SUCCEEDED", finishedAt: clock.now() });
  const failed = await makeDeployment(db.prisma, owner, { status: "FAILED", finishedAt: clock.now() });
  await makeDeployment(db.prisma, owner, { status: "RUNNING" });
  const scan = await scanWebhookDeliveries(db.prisma, clock, { windowMs: 3600_000 });
  expect(scan.created).toBe(3);
  expect((await scanWebhookDeliveries(db.prisma, clock, { windowMs: 3600_000 })).created).toBe(0);
  const rows = await db.prisma.webhookDelivery.findMany({ orderBy: [{ eventType: "asc" }] });
  expect(rows.map((r) => [r.endpointId === live.id.slice(4), r.deploymentId, r.eventType]).sort()).toEqual(
    [
      [false, failed.id, "fine_tuning.job.failed"],
      [false, ok.id, "fine_tuning.job.succeeded"],
      [true, ok.id, "fine_tuning.job.succeeded"],
    ].sort(),
  );
  expect(rows.some((r) => r.deploymentId === early.id)).toBe(false);
  const delivery = { ...deps, timeoutMs: 2000 };
  const toLive = rows.find((r) => r.endpointId === live.id.slice(4));
  expect(await deliverWebhook(delivery, toLive?.id ?? "", { number: 1, last: false })).toBe("delivered");
  expect(await deliverWebhook(delivery, toLive?.id ?? "", { number: 2, last: false })).toBe("skipped");
  expect(hits).toBe(1);
  const toDead = rows.find((r) => r.endpointId === dead.id.slice(4) && r.deploymentId === ok.id);
  expect(await deliverWebhook(delivery, toDead?.id ?? "", { number: 1, last: false })).toBe("retry");
  expect(await deliverWebhook(delivery, toDead?.id ?? "", { number: 2, last: true })).toBe("failed");
  const attempts = await db.prisma.webhookAttempt.findMany({
    where: { deliveryId: toDead?.id },
    orderBy: { attempt: "asc" },
  });
  expect(attempts.map((a) => [a.attempt, a.statusCode, a.error?.includes("ECONNREFUSED")])).toEqual([
    [1, null, true],
    [2, null, true],
  ]);
  expect((await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: toDead?.id } })).status).toBe("failed");
  expect((await scanWebhookDeliveries(db.prisma, clock, { windowMs: 3600_000 })).pending).toEqual([
    rows.find((r) => r.deploymentId === failed.id)?.id,
  ]);
});
