import { makeDataset, makeUser } from "../../../../test/factories";
import { useTestDatabase } from "../../../../test/support/test-db";
import { insertDeployment } from "../deployment/insert-deployment";
import { deploymentRequestSchema } from "../deployment/request-schema";
import { queryNamed } from "./named-statement";
import { createPrismaClient, pgPoolOf, Prisma } from "./prisma";

// The submission's INSERT runs as a named prepared statement on the pg pool under Prisma (not through $queryRaw):
// its rows must be exactly what Prisma answers, and a table that changed under a running process must not break it.
const db = useTestDatabase();

const request = (over: Record<string, unknown> = {}) =>
  deploymentRequestSchema.parse({ baseModel: "tiny", gpuTypeIds: ["NVIDIA GeForce RTX 4090"], ...over });

describe("named statements on Prisma's pool", () => {
  it("insertDeployment answers the row as Prisma reads it (BigInt, Decimal, Date, json, arrays, enums)", async () => {
    const { user } = await makeUser(db.prisma);
    const dataset = await makeDataset(db.prisma, user.id);
    const input = { userId: user.id, request: request({ datasetId: dataset.id, maxCostUsd: "12.5" }) };
    const stored = await insertDeployment(db.prisma, { ...input, idempotencyKey: "k1" });
    expect(stored).not.toBeNull();
    expect(stored).toEqual(await db.prisma.deployment.findUniqueOrThrow({ where: { id: stored!.id } }));
    expect(stored?.maxCostMicros).toBe(12_500_000n);
    // the same statement again on the same connections: stored once more; the same key: nothing written
    expect(await insertDeployment(db.prisma, input)).not.toBeNull();
    expect(await insertDeployment(db.prisma, { ...input, idempotencyKey: "k1" })).toBeNull();
    expect(await db.prisma.deploymentEvent.count({ where: { deployment: { userId: user.id } } })).toBe(2);
  });

  it("columns Prisma's raw queries read differently from pg (int8, numeric, timestamptz) come back as Prisma's", async () => {
    const { user } = await makeUser(db.prisma);
    const dataset = await makeDataset(db.prisma, user.id);
    const d = await insertDeployment(db.prisma, { userId: user.id, request: request({ datasetId: dataset.id }) });
    await db.prisma.deployment.update({
      where: { id: d!.id },
      data: {
        progressLoss: "1.234567",
        costMicros: 9_007_199_254_740_993n,
        runningAt: new Date("2026-01-02T03:04:05.678Z"),
      },
    });
    const sql = Prisma.sql`SELECT * FROM "Deployment" WHERE "id" = ${d!.id}::uuid`;
    const [named] = await queryNamed<Record<string, unknown>>(pgPoolOf(db.prisma)!, sql);
    expect(named).toEqual((await db.prisma.$queryRaw<Record<string, unknown>[]>(sql))[0]);
    expect(named?.costMicros).toBe(9_007_199_254_740_993n);
    expect(String(named?.progressLoss)).toBe("1.234567");
  });

  it("a table given a column while the process runs: the statement is prepared again, not refused", async () => {
    const pool = pgPoolOf(db.prisma)!;
    await db.prisma.$executeRawUnsafe(`CREATE TABLE named_probe (a int)`);
    await db.prisma.$executeRawUnsafe(`INSERT INTO named_probe VALUES (1)`);
    const sql = Prisma.sql`SELECT * FROM named_probe WHERE a = ${1}`;
    // prepared on every connection of the pool (5), so the next call meets a stale one wherever it runs
    await Promise.all(Array.from({ length: 5 }, () => queryNamed(pool, sql)));
    await db.prisma.$executeRawUnsafe(`ALTER TABLE named_probe ADD COLUMN b int DEFAULT 7`);
    expect(await queryNamed(pool, sql)).toEqual([{ a: 1, b: 7 }]);
    expect(await Promise.all(Array.from({ length: 5 }, () => queryNamed(pool, sql)))).toEqual(
      Array.from({ length: 5 }, () => [{ a: 1, b: 7 }]),
    );
  });

  it("a client after $disconnect lends no pool (the adapter ended it): insertDeployment goes through Prisma", async () => {
    const { user } = await makeUser(db.prisma);
    const dataset = await makeDataset(db.prisma, user.id);
    const client = createPrismaClient({ databaseUrl: db.url, maxConnections: 1 });
    try {
      await client.$queryRaw`SELECT 1`; // connected: the adapter took the pool
      expect(pgPoolOf(client)).toBeDefined();
      await client.$disconnect();
      expect(pgPoolOf(client)).toBeUndefined();
      const d = await insertDeployment(client, { userId: user.id, request: request({ datasetId: dataset.id }) });
      expect(d).toEqual(await db.prisma.deployment.findUniqueOrThrow({ where: { id: d!.id } }));
    } finally {
      await client.$disconnect();
    }
  });
});
