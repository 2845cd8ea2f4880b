import { AppError } from "../errors";
import type { PrismaClient } from "../db";
import type { BlobStorage } from "../storage";
import type { Clock } from "../time/clock";
import { getOwnDataset } from "./queries";

/**
 * The owner deletes a dataset: its file goes, its row stays (marked deleted) for the deployments that used
 * it. A live deployment using it answers DATASET_IN_USE with their ids. The row is locked while checking, so a
 * deployment created meanwhile waits for the answer (its deploy job then finds the dataset deleted, before any pod).
 */
export async function deleteOwnDataset(
  deps: { prisma: PrismaClient; clock: Clock; storage: BlobStorage },
  userId: string,
  id: string,
): Promise<void> {
  const dataset = await getOwnDataset(deps.prisma, userId, id);
  await deps.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Dataset" WHERE id = ${dataset.id}::uuid FOR UPDATE`;
    const live = await tx.deployment.findMany({
      where: { datasetId: dataset.id, status: { in: ["QUEUED", "PROVISIONING", "RUNNING"] } },
      select: { id: true },
      take: 20,
    });
    if (live.length > 0) {
      throw new AppError(
        "DATASET_IN_USE",
        "live deployments use this dataset; cancel them or wait for their outcome first",
        { details: { deploymentIds: live.map((d) => d.id) } },
      );
    }
    const now = deps.clock.now();
    await tx.dataset.updateMany({ where: { id: dataset.id, deletedAt: null }, data: { deletedAt: now } });
    await tx.datasetDownloadToken.updateMany({
      where: { datasetId: dataset.id, usedAt: null, revokedAt: null },
      data: { revokedAt: now },
    });
  });
  await deps.storage.delete(dataset.storageKey);
}
