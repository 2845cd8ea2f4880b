/**
 * Key rotation covers webhook signing secrets (issue 33) as it covers users' secrets: an endpoint sealed under the old
 * key stops a worker whose keyring lacks it, `secrets:rotate` re-encrypts it under the new key (its dates and hint
 * kept), and a delivery signed with it under the new key alone still verifies with the secret shown at creation
 * (OpenAI's SDK, `client.webhooks.unwrap`, as a receiver checks it).
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import OpenAI from "openai";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";
import { useTestDatabase } from "../../../../test/support/test-db";
import { AppError } from "../errors";
import { parseSecretsKeyring } from "../secrets/keyring";
import { assertStoredSecretKeys, reencryptSecrets } from "../secrets/secret-store";
import { ManualClock } from "../time/clock";
import { deliverWebhook, scanWebhookDeliveries } from "./deliveries";
import { reencryptEndpointSecrets } from "./endpoint-keys";
import { createEndpoint, endpointSecret } from "./endpoints";

const db = useTestDatabase();
const clock = new ManualClock(Date.now());
const policy = { requireHttps: false, allowPrivate: true };
const keyA = randomBytes(32).toString("base64");
const keyB = randomBytes(32).toString("hex");
const ringA = parseSecretsKeyring({ SECRETS_KEYS: `a:${keyA}`, developmentFallback: false });
const ringBA = parseSecretsKeyring({ SECRETS_KEYS: `b:${keyB},a:${keyA}`, developmentFallback: false });
const ringB = parseSecretsKeyring({ SECRETS_KEYS: `b:${keyB}`, developmentFallback: false });

const received: Array<{ headers: Record<string, string>; body: string }> = [];
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString("utf8")));
  req.on("end", () => {
    received.push({ headers: req.headers as Record<string, string>, body });
    res.end();
  });
});
beforeAll(() => new Promise<void>((r) => server.listen(0, "127.0.0.1", r)));
afterAll(() => new Promise((r) => server.close(r)));

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (err) {
    return err instanceof AppError ? `${err.code}: ${err.message}` : String(err);
  }
}

it("a webhook secret under the old key: the start-up check names it, rotation moves it, deliveries still verify", async () => {
  const { user } = await makeUser(db.prisma, { email: "rotate-hooks@example.com" });
  const port = (server.address() as { port: number }).port;
  const created = await createEndpoint({ prisma: db.prisma, clock, keyring: ringA, policy }, user.id, {
    url: `http://127.0.0.1:${port}/hook`,
  });
  const before = await db.prisma.webhookEndpoint.findFirstOrThrow({ where: { userId: user.id } });
  expect(before.keyId).toBe("a");

  // a worker holding only the new key stops at its start, naming the webhook secrets (no user secret is stored)
  expect(await db.prisma.userSecret.count()).toBe(0);
  expect(await failure(assertStoredSecretKeys(db.prisma, ringB))).toMatch(
    /^CONFIG_INVALID: .*stored under key ids "a" \(1 webhook signing secrets\), but SECRETS_KEY \/ SECRETS_KEYS does not hold them/s,
  );
  await assertStoredSecretKeys(db.prisma, ringBA);

  // rotation: the users' secrets (none here) and the endpoints' under the first key; a second run has nothing to do
  clock.advance(60_000);
  expect(await reencryptSecrets({ prisma: db.prisma, keyring: ringBA })).toBe(0);
  expect(await reencryptEndpointSecrets({ prisma: db.prisma, keyring: ringBA })).toBe(1);
  expect(await reencryptEndpointSecrets({ prisma: db.prisma, keyring: ringBA })).toBe(0);
  const after = await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: before.id } });
  expect(after.keyId).toBe("b");
  expect(Buffer.from(after.ciphertext).equals(Buffer.from(before.ciphertext))).toBe(false);
  expect([after.updatedAt, after.secretHint]).toEqual([before.updatedAt, before.secretHint]);
  await assertStoredSecretKeys(db.prisma, ringB);
  expect(endpointSecret(ringB, after)).toBe(created.signing_secret);

  // a job's outcome delivered with the new key alone: the receiver verifies it with the secret it was shown
  const owner = { userId: user.id, datasetId: (await makeDataset(db.prisma, user.id)).id };
  await makeDeployment(db.prisma, owner, { status: "SUCCEEDED", finishedAt: clock.now() });
  await scanWebhookDeliveries(db.prisma, clock, { windowMs: 3600_000 });
  const delivery = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: before.id } });
  const deps = { prisma: db.prisma, clock, keyring: ringB, policy, timeoutMs: 2000 };
  expect(await deliverWebhook(deps, delivery.id, { number: 1, last: true })).toBe("delivered");
  expect(received).toHaveLength(1);
  const client = new OpenAI({ apiKey: "unused" });
  const event = await client.webhooks.unwrap(received[0]!.body, received[0]!.headers, created.signing_secret);
  expect(event.type).toBe("fine_tuning.job.succeeded");
  // and one whose key is gone fails by name, not with a wrong signature
  expect(() => endpointSecret(ringA, after)).toThrow(/encrypted under key id "b", which SECRETS_KEY/);
});
