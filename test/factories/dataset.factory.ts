import { randomUUID } from "node:crypto";
import type { Dataset, Prisma, PrismaClient } from "@trainpod/core";

/** A dataset row (no file behind it: for tests that never download it). */
export function makeDataset(
  prisma: PrismaClient,
  userId: string,
  over: Partial<Prisma.DatasetUncheckedCreateInput> = {},
): Promise<Dataset> {
  return prisma.dataset.create({
    data: {
      userId,
      name: "factory dataset",
      storageKey: `datasets/${userId}/${randomUUID()}.jsonl`,
      sizeBytes: 2n,
      sha256: "0".repeat(64),
      format: "chat",
      rowCount: 1,
      ...over,
    },
  });
}
