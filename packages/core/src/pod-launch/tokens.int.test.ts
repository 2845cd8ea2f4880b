import { useTestDatabase } from "../../../../test/support/test-db";
import { createUserWithKey } from "../auth";
import { sha256Hex } from "../auth/secret";
import { loadConfig } from "../config";
import { AppError } from "../errors";
import { ManualClock } from "../time/clock";
import { cleanupExpiredTokens } from "./token-cleanup";
import { CLAIM_STALE_MS, claimDatasetToken, markDatasetTokenUsed, releaseDatasetToken } from "./dataset-claim";
import { mintDatasetToken, mintRunToken } from "./mint-tokens";
import { revokeDeploymentTokens, verifyRunToken } from "./run-token";

const db = useTestDatabase();
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const config = loadConfig({
  PUBLIC_URL: "https://api.example.com/",
  DATASET_TOKEN_TTL_MINUTES: "120",
  RUN_TOKEN_TTL_HOURS: "72",
});
let userId: string;
let datasetId: string;
const deps = () => ({ prisma: db.prisma, clock, config });

async function newDeployment(): Promise<string> {
  const d = await db.prisma.deployment.create({
    data: {
      userId,
      datasetId,
      baseModel: "m",
      gpuTypeIds: ["g"],
      imageName: "i",
      containerDiskInGb: 1,
      volumeInGb: 0,
      maxRuntimeMinutes: 1,
      maxCostMicros: 1n,
      setupTimeoutMinutes: 1,
    },
  });
  return d.id;
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof AppError ? err.code : String(err);
  }
}

beforeAll(async () => {
  userId = (await createUserWithKey(db.prisma, { email: "t@example.com" })).user.id;
  datasetId = (
    await db.prisma.dataset.create({
      data: {
        userId,
        name: "d",
        storageKey: "datasets/x.jsonl",
        sizeBytes: 3n,
        sha256: "ab",
        format: "chat",
        rowCount: 1,
      },
    })
  ).id;
});
describe("dataset download tokens", () => {
  it("mint stores only the sha256 and returns the URL, token and expiry", async () => {
    const deploymentId = await newDeployment();
    const t = await mintDatasetToken(deps(), { deploymentId });
    expect(t.token).toMatch(/^tp_ds_[A-Za-z0-9_-]{43}$/);
    expect(t.url).toBe(`https://api.example.com/v1/datasets/download?token=${t.token}`);
    expect(t.expiresAt.getTime()).toBe(clock.now().getTime() + 120 * 60_000);
    const rows = await db.prisma.$queryRawUnsafe<unknown[]>(`SELECT * FROM "DatasetDownloadToken"`);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(t.token);
    expect(dump).not.toContain(t.token.slice(6));
    const row = await db.prisma.datasetDownloadToken.findUniqueOrThrow({ where: { id: t.id } });
    expect(row).toMatchObject({ deploymentId, datasetId, userId, claimedAt: null, usedAt: null, revokedAt: null });
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await failure(mintDatasetToken(deps(), { deploymentId: "00000000-0000-4000-8000-000000000000" }))).toBe(
      "NOT_FOUND",
    );
  });

  it("claim → in use → release → claim again → used", async () => {
    const t = await mintDatasetToken(deps(), { deploymentId: await newDeployment() });
    const claim = await claimDatasetToken(db.prisma, clock, t.token);
    expect(claim).toMatchObject({ datasetId, userId, storageKey: "datasets/x.jsonl", sizeBytes: 3, sha256: "ab" });
    expect(await failure(claimDatasetToken(db.prisma, clock, t.token))).toBe("TOKEN_USED");
    expect(await releaseDatasetToken(db.prisma, claim)).toBe(true);
    clock.advance(1);
    const again = await claimDatasetToken(db.prisma, clock, t.token);
    expect(await releaseDatasetToken(db.prisma, claim)).toBe(false); // the old claim no longer holds it
    expect(await markDatasetTokenUsed(db.prisma, clock, again)).toBe(true);
    expect(await failure(claimDatasetToken(db.prisma, clock, t.token))).toBe("TOKEN_USED");
    expect(await releaseDatasetToken(db.prisma, again)).toBe(false);
  });

  it("expired, revoked and unknown tokens fail with their kind; a stale claim no longer blocks", async () => {
    const expiring = await mintDatasetToken(deps(), { deploymentId: await newDeployment() });
    const deploymentId = await newDeployment();
    const revoked = await mintDatasetToken(deps(), { deploymentId });
    expect(await revokeDeploymentTokens(db.prisma, clock, deploymentId)).toEqual({ datasetTokens: 1, runTokens: 0 });
    expect(await failure(claimDatasetToken(db.prisma, clock, revoked.token))).toBe("TOKEN_REVOKED");
    expect(await failure(claimDatasetToken(db.prisma, clock, `tp_ds_${"x".repeat(43)}`))).toBe("TOKEN_INVALID");
    expect(await failure(claimDatasetToken(db.prisma, clock, undefined))).toBe("TOKEN_INVALID");

    const stale = await mintDatasetToken(deps(), { deploymentId: await newDeployment() });
    await claimDatasetToken(db.prisma, clock, stale.token);
    clock.advance(CLAIM_STALE_MS + 1);
    await claimDatasetToken(db.prisma, clock, stale.token);

    clock.advance(120 * 60_000);
    expect(await failure(claimDatasetToken(db.prisma, clock, expiring.token))).toBe("TOKEN_EXPIRED");
  });
});

describe("run tokens", () => {
  it("verify: right deployment passes; wrong deployment, revoked, expired fail", async () => {
    const deploymentId = await newDeployment();
    const other = await newDeployment();
    const t = await mintRunToken(deps(), { deploymentId });
    expect(t.token).toMatch(/^tp_run_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(await db.prisma.runToken.findMany())).not.toContain(t.token);
    await expect(verifyRunToken(db.prisma, clock, deploymentId, t.token)).resolves.toEqual({
      tokenId: t.id,
      deploymentId,
    });
    expect(await failure(verifyRunToken(db.prisma, clock, other, t.token))).toBe("TOKEN_INVALID");
    expect(await failure(verifyRunToken(db.prisma, clock, deploymentId, "Bearer junk"))).toBe("TOKEN_INVALID");
    clock.advance(72 * 3_600_000);
    expect(await failure(verifyRunToken(db.prisma, clock, deploymentId, t.token))).toBe("TOKEN_EXPIRED");
    const fresh = await mintRunToken(deps(), { deploymentId });
    expect((await revokeDeploymentTokens(db.prisma, clock, deploymentId)).runTokens).toBe(2);
    expect(await failure(verifyRunToken(db.prisma, clock, deploymentId, fresh.token))).toBe("TOKEN_REVOKED");
  });
});

describe("revoking the tokens of the launches a recorded pod does not carry", () => {
  it("keeps the kept launch's run and dataset tokens; a launch whose dataset token is unknown keeps every dataset token", async () => {
    const deploymentId = await newDeployment();
    const launch = async () => ({
      run: await mintRunToken(deps(), { deploymentId }),
      dataset: await mintDatasetToken(deps(), { deploymentId }),
    });
    const [earlier, recorded, later] = [await launch(), await launch(), await launch()];
    const keep = { runTokenHash: sha256Hex(recorded.run.token), datasetTokenHash: sha256Hex(recorded.dataset.token) };
    expect(await revokeDeploymentTokens(db.prisma, clock, deploymentId, keep)).toEqual({
      datasetTokens: 2,
      runTokens: 2,
    });
    await expect(verifyRunToken(db.prisma, clock, deploymentId, recorded.run.token)).resolves.toMatchObject({});
    for (const other of [earlier, later])
      expect(await failure(verifyRunToken(db.prisma, clock, deploymentId, other.run.token))).toBe("TOKEN_REVOKED");
    const live = await db.prisma.datasetDownloadToken.findMany({ where: { deploymentId, revokedAt: null } });
    expect(live.map((t) => t.id)).toEqual([recorded.dataset.id]);

    const again = await launch();
    const runOnly = { runTokenHash: sha256Hex(again.run.token) };
    expect(await revokeDeploymentTokens(db.prisma, clock, deploymentId, runOnly)).toEqual({
      datasetTokens: 0,
      runTokens: 1,
    });
  });
});

describe("cleanupExpiredTokens", () => {
  it("deletes what ended before olderThan and counts it; live and recently ended rows stay", async () => {
    await db.prisma.datasetDownloadToken.deleteMany();
    await db.prisma.runToken.deleteMany();
    const day = 24 * 3_600_000;
    const dep = await newDeployment();
    const oldDs = await mintDatasetToken(deps(), { deploymentId: dep }); // will expire
    const usedDs = await mintDatasetToken(deps(), { deploymentId: dep });
    await markDatasetTokenUsed(db.prisma, clock, await claimDatasetToken(db.prisma, clock, usedDs.token));
    await mintRunToken(deps(), { deploymentId: dep }); // will be revoked
    clock.advance(2 * day);
    await revokeDeploymentTokens(db.prisma, clock, dep);
    clock.advance(2 * day);
    const liveDs = await mintDatasetToken(deps(), { deploymentId: await newDeployment() });
    const liveRun = await mintRunToken(deps(), { deploymentId: await newDeployment() });
    const recentlyUsed = await mintDatasetToken(deps(), { deploymentId: await newDeployment() });
    await markDatasetTokenUsed(db.prisma, clock, await claimDatasetToken(db.prisma, clock, recentlyUsed.token));

    const olderThan = new Date(clock.now().getTime() - day);
    expect(await cleanupExpiredTokens(db.prisma, clock, { olderThan })).toEqual({ datasetTokens: 2, runTokens: 1 });
    const left = (await db.prisma.datasetDownloadToken.findMany()).map((t) => t.id).sort();
    expect(left).toEqual([liveDs.id, recentlyUsed.id].sort());
    expect((await db.prisma.runToken.findMany()).map((t) => t.id)).toEqual([liveRun.id]);
    expect(left).not.toContain(oldDs.id);
    // a future olderThan is clamped to now: live tokens are never deleted
    expect(
      await cleanupExpiredTokens(db.prisma, clock, { olderThan: new Date(clock.now().getTime() + 10 * day) }),
    ).toEqual({ datasetTokens: 0, runTokens: 0 });
    clock.advance(1);
    expect(await cleanupExpiredTokens(db.prisma, clock, { olderThan: clock.now() })).toEqual({
      datasetTokens: 1,
      runTokens: 0,
    });
  });
});
