import { makeDataset, makeUser } from "../../../../test/factories";
import { useTestDatabase } from "../../../../test/support/test-db";
import { insertDeployment, type InsertDeploymentInput } from "./insert-deployment";
import { deploymentRequestSchema } from "./request-schema";

// The submission's INSERT answers the row it stored without reading it back (deployment-row.ts): that row must be
// exactly Prisma's read of it, every column, for every kind of submission. A column added to the schema that a new
// row holds and deployment-row.ts does not know fails here (and, when the INSERT must name it, at compile time).
const db = useTestDatabase();

async function owner(): Promise<{ userId: string; datasetId: string }> {
  const { user } = await makeUser(db.prisma);
  const dataset = await makeDataset(db.prisma, user.id);
  await db.prisma.userSecret.create({
    data: {
      userId: user.id,
      name: "HF_TOKEN",
      keyId: "k",
      iv: Buffer.alloc(12),
      ciphertext: Buffer.alloc(4),
      authTag: Buffer.alloc(16),
    },
  });
  return { userId: user.id, datasetId: dataset.id };
}

const body = (datasetId: string, over: Record<string, unknown> = {}) =>
  deploymentRequestSchema.parse({ datasetId, baseModel: "org/tiny", gpuTypeIds: ["NVIDIA GeForce RTX 4090"], ...over });

async function expectAsPrismaReadsIt(input: InsertDeploymentInput, inTransaction = false): Promise<void> {
  const stored = inTransaction
    ? await db.prisma.$transaction((tx) => insertDeployment(tx, input))
    : await insertDeployment(db.prisma, input);
  expect(stored).not.toBeNull();
  const read = await db.prisma.deployment.findUniqueOrThrow({ where: { id: stored!.id } });
  expect(Object.keys(stored!).sort()).toEqual(Object.keys(read).sort());
  expect(stored).toEqual(read);
}

describe("the row a submission's INSERT answers", () => {
  it("is Prisma's read of it: defaults only", async () => {
    const o = await owner();
    await expectAsPrismaReadsIt({ userId: o.userId, request: body(o.datasetId) });
  });

  it("is Prisma's read of it: every optional part set (secrets, hub, W&B, resume, retry, places, cache, key)", async () => {
    const o = await owner();
    const first = await insertDeployment(db.prisma, { userId: o.userId, request: body(o.datasetId) });
    const request = body(o.datasetId, {
      hyperparameters: { steps: 30, learning_rate: 0.0002, lora_r: 8, merge_adapter: true },
      gpuTypeIds: ["NVIDIA A40", "NVIDIA GeForce RTX 4090"],
      gpuCount: 2,
      cloudType: "COMMUNITY",
      dataCenterIds: ["EU-RO-1", "US-TX-3"],
      maxCostUsd: "12.345678",
      secrets: ["HF_TOKEN"],
      hub: { repo: "org/out", merged: true },
      wandb: { project: "p", name: "n" },
      cache: "off",
      autoResume: { maxAttempts: 2 },
    });
    await expectAsPrismaReadsIt({
      userId: o.userId,
      request,
      idempotencyKey: "key-1",
      retryOfId: first!.id,
      resume: { ofId: first!.id, attempt: 2, fromStep: 10, fromPath: "checkpoints/step-10" },
      event: { message: "queued", data: { warning: "w" } },
      modelShareable: true,
    });
  });

  it("is Prisma's read of it inside a transaction too (the budget path)", async () => {
    const o = await owner();
    await expectAsPrismaReadsIt({ userId: o.userId, request: body(o.datasetId, { maxCostUsd: "7" }) }, true);
  });
});
