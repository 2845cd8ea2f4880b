import { makeDataset, makeUser } from "../../../../test/factories";
import { countPgTransactions } from "../../../../test/support/pg-transactions";
import { useTestDatabase } from "../../../../test/support/test-db";
import { insertDeployment, insertDeployments, type InsertDeploymentInput } from "./insert-deployment";
import { deploymentRequestSchema, type DeploymentRequest } from "./request-schema";

// Submissions stored while earlier ones are being stored share one statement (issue 32 item 2): each row keeps its
// own conditions (its user's dataset, method, secrets, Idempotency-Key), and one bad row fails only itself.
const db = useTestDatabase();

const request = (datasetId: string, over: Record<string, unknown> = {}): DeploymentRequest =>
  deploymentRequestSchema.parse({ datasetId, baseModel: "org/tiny", gpuTypeIds: ["NVIDIA GeForce RTX 4090"], ...over });

async function owner(format = "chat"): Promise<{ userId: string; datasetId: string }> {
  const { user } = await makeUser(db.prisma);
  const dataset = await makeDataset(db.prisma, user.id, { format });
  return { userId: user.id, datasetId: dataset.id };
}

describe("insertDeployments: several submissions in one statement", () => {
  it("stores each row only where its own conditions hold, in the inputs' order", async () => {
    const a = await owner();
    const b = await owner();
    const prefs = await owner("preference");
    const inputs: InsertDeploymentInput[] = [
      { userId: a.userId, request: request(a.datasetId), idempotencyKey: "same" },
      // b's dataset is not a's
      { userId: a.userId, request: request(b.datasetId) },
      // a secret a does not have
      { userId: a.userId, request: request(a.datasetId, { secrets: ["HF_TOKEN"] }) },
      // DPO on a chat dataset
      { userId: a.userId, request: request(a.datasetId, { hyperparameters: { method: "dpo" } }) },
      // DPO on a preference dataset, with its own event
      {
        userId: prefs.userId,
        request: request(prefs.datasetId, { hyperparameters: { method: "dpo" } }),
        event: { message: "queued with a note", data: { note: "x" } },
      },
      // the first row's key again: the first is stored, this one is not
      { userId: a.userId, request: request(a.datasetId), idempotencyKey: "same" },
      // the same key for another user is theirs
      { userId: b.userId, request: request(b.datasetId), idempotencyKey: "same" },
    ];
    const stored = await insertDeployments(db.prisma, inputs);
    expect(stored.map((d) => d !== null)).toEqual([true, false, false, false, true, false, true]);
    for (const d of stored.filter((x) => x !== null))
      expect(d).toEqual(await db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } }));
    const events = await db.prisma.deploymentEvent.findMany({ orderBy: { id: "asc" } });
    expect(events.map((e) => [e.deploymentId, e.type, e.message, e.data])).toEqual(
      expect.arrayContaining([
        [stored[0]?.id, "submitted", "deployment queued", null],
        [stored[4]?.id, "submitted", "queued with a note", { note: "x" }],
        [stored[6]?.id, "submitted", "deployment queued", null],
      ]),
    );
    expect(events).toHaveLength(3);
  });

  it("shares a statement among submissions made while earlier ones are being stored", async () => {
    const a = await owner();
    const tx = countPgTransactions();
    try {
      const stored = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          insertDeployment(db.prisma, { userId: a.userId, request: request(a.datasetId), idempotencyKey: `k${i}` }),
        ),
      );
      expect(stored.map((d) => d?.idempotencyKey)).toEqual(Array.from({ length: 30 }, (_, i) => `k${i}`));
      // 4 statements start at once (one each), the other 26 share the first free one
      expect(tx.count()).toBe(5);
    } finally {
      tx.stop();
    }
    expect(await db.prisma.deployment.count({ where: { userId: a.userId } })).toBe(30);
    expect(await db.prisma.deploymentEvent.count({ where: { deployment: { userId: a.userId } } })).toBe(30);
  });

  it("a row the database refuses fails only its own submission", async () => {
    const a = await owner();
    const bad = { ...request(a.datasetId), image: undefined } as unknown as DeploymentRequest; // NOT NULL imageName
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        insertDeployment(db.prisma, { userId: a.userId, request: i === 7 ? bad : request(a.datasetId) }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([...Array(7).fill("fulfilled"), "rejected", "fulfilled", "fulfilled"]);
    const refused = results[7] as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(/imageName/);
    expect(await db.prisma.deployment.count({ where: { userId: a.userId } })).toBe(9);
  });
});
