import { useTestDatabase } from "../../../../test/support/test-db";
import { createPrismaClient } from "./prisma";
import { waitForDatabase } from "./wait-for-database";

const db = useTestDatabase();
describe("waitForDatabase", () => {
  it("returns at the first answer", async () => {
    const retries: number[] = [];
    await waitForDatabase(db.prisma, { onRetry: (_err, attempt) => retries.push(attempt) });
    expect(retries).toEqual([]);
  });

  it("retries an unreachable Postgres, then gives up with the last error", async () => {
    const nowhere = createPrismaClient({ databaseUrl: "postgresql://postgres@127.0.0.1:1/none", maxConnections: 1 });
    const retries: number[] = [];
    try {
      // the last connection error, as Postgres's driver reports a refused connection
      await expect(
        waitForDatabase(nowhere, { totalMs: 2_000, tryMs: 500, onRetry: (_err, attempt) => retries.push(attempt) }),
      ).rejects.toThrow(/ECONNREFUSED|connect|Can't reach database/i);
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries).toEqual(retries.map((_, i) => i + 1));
    } finally {
      await nowhere.$disconnect();
    }
  });
});
