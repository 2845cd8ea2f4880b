import { randomBytes } from "node:crypto";
import { makeDataset, makeUser } from "../../../../test/factories";
import { useTestDatabase } from "../../../../test/support/test-db";
import { insertDeployment } from "../deployment/insert-deployment";
import { preflight } from "../deployment/preflight";
import { deploymentRequestSchema } from "../deployment/request-schema";
import { AppError } from "../errors";
import { ManualClock } from "../time/clock";
import { parseSecretsKeyring } from "./keyring";
import {
  assertStoredSecretKeys,
  deleteSecret,
  listSecrets,
  reencryptSecrets,
  secretsForPod,
  setSecret,
} from "./secret-store";

const db = useTestDatabase();
const clock = new ManualClock(Date.parse("2026-12-08T10:00:00Z"));
const keyA = randomBytes(32).toString("base64");
const keyB = randomBytes(32).toString("hex");
const ringA = parseSecretsKeyring({ SECRETS_KEYS: `a:${keyA}`, developmentFallback: false });
const VALUE = `hf_${randomBytes(24).toString("hex")}`;

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (err) {
    if (err instanceof AppError) return `${err.code}: ${err.message}`;
    return err instanceof Error ? `${err.name}` : String(err);
  }
}

/** Every text, json and bytea value of the table, as text (bytea as hex and as latin1). */
async function tableDump(table: string): Promise<string> {
  const rows = await db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`SELECT * FROM "${table}"`);
  return JSON.stringify(rows, (_k, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return `${Buffer.from(v).toString("hex")} ${Buffer.from(v).toString("latin1")}`;
    return v;
  });
}

describe("users' secrets in Postgres", () => {
  it("set stores only ciphertext (201 then 200: created, updated), list shows names and dates, never a value", async () => {
    const { user } = await makeUser(db.prisma);
    const deps = { prisma: db.prisma, keyring: ringA, clock };
    const first = await setSecret(deps, user.id, { name: "HF_TOKEN", value: VALUE });
    expect(first).toMatchObject({ created: true, secret: { name: "HF_TOKEN" } });
    clock.advance(1000);
    const second = await setSecret(deps, user.id, { name: "HF_TOKEN", value: `${VALUE}2` });
    expect(second.created).toBe(false);
    expect(second.secret.updatedAt.getTime() - second.secret.createdAt.getTime()).toBe(1000);
    await setSecret(deps, user.id, { name: "WANDB_API_KEY", value: "0123456789abcdef0123" });
    const list = await listSecrets(db.prisma, user.id);
    expect(list.map((s) => Object.keys(s).sort())).toEqual([
      ["createdAt", "name", "updatedAt"],
      ["createdAt", "name", "updatedAt"],
    ]);
    expect(list.map((s) => s.name)).toEqual(["HF_TOKEN", "WANDB_API_KEY"]);
    const dump = await tableDump("UserSecret");
    expect(dump).toContain('"keyId":"a"');
    for (const v of [VALUE, VALUE.slice(3, 20), "0123456789abcdef0123"]) expect(dump).not.toContain(v);
    expect(await secretsForPod(db.prisma, ringA, user.id, ["HF_TOKEN"])).toEqual({ HF_TOKEN: `${VALUE}2` });
  });

  it("refuses reserved names (422) and bad bodies (schema), writing nothing", async () => {
    const { user } = await makeUser(db.prisma);
    const deps = { prisma: db.prisma, keyring: ringA };
    for (const name of ["TRAINPOD_RUN_TOKEN", "RUNPOD_API_KEY", "PATH", "HOME", "PYTHONPATH", "LD_PRELOAD"])
      expect(await failure(setSecret(deps, user.id, { name, value: "x" }))).toMatch(/^UNPROCESSABLE: .* cannot be/);
    for (const body of [
      { name: "hf_token", value: "x" },
      { name: "HF_TOKEN", value: "" },
      { name: "HF_TOKEN", value: "x".repeat(64 * 1024 + 1) },
      { name: "HF_TOKEN", value: "a\u0000b" },
      { name: "HF_TOKEN", value: "x", extra: 1 },
    ])
      expect(await failure(setSecret(deps, user.id, body))).toBe("ZodError");
    expect(await setSecret(deps, user.id, { name: "BIG", value: "é".repeat(32 * 1024) })).toMatchObject({
      created: true,
    });
    expect((await listSecrets(db.prisma, user.id)).map((s) => s.name)).toEqual(["BIG"]);
  });

  it("delete removes the user's own only (404 otherwise); a named secret deleted before launch fails it by name", async () => {
    const alice = (await makeUser(db.prisma)).user;
    const bob = (await makeUser(db.prisma)).user;
    const deps = { prisma: db.prisma, keyring: ringA };
    await setSecret(deps, alice.id, { name: "HF_TOKEN", value: VALUE });
    await setSecret(deps, alice.id, { name: "OTHER", value: "other-value" });
    expect(await failure(deleteSecret(db.prisma, bob.id, "HF_TOKEN"))).toMatch(/^NOT_FOUND/);
    expect(await failure(secretsForPod(db.prisma, ringA, bob.id, ["HF_TOKEN"]))).toMatch(/^NOT_FOUND/);
    await deleteSecret(db.prisma, alice.id, "HF_TOKEN");
    expect(await failure(deleteSecret(db.prisma, alice.id, "HF_TOKEN"))).toMatch(/^NOT_FOUND/);
    expect(await failure(secretsForPod(db.prisma, ringA, alice.id, ["OTHER", "HF_TOKEN"]))).toBe(
      "NOT_FOUND: the deployment's secret HF_TOKEN was deleted after it was submitted: set it again (POST /v1/secrets) and submit again",
    );
    expect(await secretsForPod(db.prisma, ringA, alice.id, [])).toEqual({});
  });

  it("rotation: SECRETS_KEYS b,a opens a's rows; reencrypt moves them to b; the startup check names a missing key id", async () => {
    const { user } = await makeUser(db.prisma);
    await setSecret({ prisma: db.prisma, keyring: ringA }, user.id, { name: "ROTATED", value: "rotate-me-please" });
    const ringB = parseSecretsKeyring({ SECRETS_KEY: keyB, developmentFallback: false });
    const ringBA = parseSecretsKeyring({ SECRETS_KEYS: `b:${keyB},a:${keyA}`, developmentFallback: false });
    const none = parseSecretsKeyring({ developmentFallback: false });
    expect(await failure(assertStoredSecretKeys(db.prisma, ringB))).toMatch(
      /^CONFIG_INVALID: .*secrets are stored under key ids "a" \(\d+ secrets\), but SECRETS_KEY \/ SECRETS_KEYS does not hold them/s,
    );
    expect(await failure(assertStoredSecretKeys(db.prisma, none))).toMatch(/but SECRETS_KEY is not set/);
    await assertStoredSecretKeys(db.prisma, ringBA);
    expect(await secretsForPod(db.prisma, ringBA, user.id, ["ROTATED"])).toEqual({ ROTATED: "rotate-me-please" });
    expect(await reencryptSecrets({ prisma: db.prisma, keyring: ringBA })).toBeGreaterThanOrEqual(1);
    expect(await db.prisma.userSecret.count({ where: { keyId: { not: "b" } } })).toBe(0);
    const ringBOnly = parseSecretsKeyring({ SECRETS_KEYS: `b:${keyB}`, developmentFallback: false });
    await assertStoredSecretKeys(db.prisma, ringBOnly);
    expect(await secretsForPod(db.prisma, ringBOnly, user.id, ["ROTATED"])).toEqual({ ROTATED: "rotate-me-please" });
  });

  it("a deployment naming a secret the user has not set: SECRET_NOT_FOUND at pre-flight, and the INSERT writes nothing", async () => {
    const { user } = await makeUser(db.prisma);
    const ds = await makeDataset(db.prisma, user.id);
    await setSecret({ prisma: db.prisma, keyring: ringA }, user.id, { name: "HF_TOKEN", value: VALUE });
    const request = (secrets: string[], extra: Record<string, unknown> = {}) =>
      deploymentRequestSchema.parse({
        datasetId: ds.id,
        baseModel: "org/model",
        gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
        secrets,
        ...extra,
      });
    const ctx = { publicUrl: "http://127.0.0.1:8080", simulated: true };
    const problems = await preflight(db.prisma, ctx, user.id, request(["HF_TOKEN", "NOPE", "WANDB_API_KEY"]));
    expect(problems).toEqual([
      expect.objectContaining({ code: "SECRET_NOT_FOUND", field: "secrets.1" }),
      expect.objectContaining({ code: "SECRET_NOT_FOUND", field: "secrets.2" }),
    ]);
    const required = await preflight(
      db.prisma,
      ctx,
      user.id,
      request([], { hub: { repo: "me/out" }, wandb: { project: "p" } }),
    );
    expect(required.map((p) => `${p.code} ${p.message.split(" ").slice(0, 5).join(" ")}`)).toEqual([
      "SECRET_REQUIRED hub needs the secret HF_TOKEN",
      "SECRET_REQUIRED wandb needs the secret WANDB_API_KEY",
    ]);
    expect(await insertDeployment(db.prisma, { userId: user.id, request: request(["HF_TOKEN", "NOPE"]) })).toBeNull();
    expect(await db.prisma.deployment.count({ where: { userId: user.id } })).toBe(0);
    const stored = await insertDeployment(db.prisma, { userId: user.id, request: request(["HF_TOKEN"]) });
    expect(stored?.secretNames).toEqual(["HF_TOKEN"]);
    expect(await preflight(db.prisma, ctx, user.id, request(["HF_TOKEN"]))).toEqual([]);
  });
});
