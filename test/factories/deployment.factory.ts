import type { Deployment, Prisma, PrismaClient } from "@trainpod/core";

/** A deployment row with valid defaults (QUEUED, one RTX 4090, $10 cap); override anything. */
export function makeDeployment(
  prisma: PrismaClient,
  owner: { userId: string; datasetId: string },
  over: Partial<Prisma.DeploymentUncheckedCreateInput> = {},
): Promise<Deployment> {
  return prisma.deployment.create({
    data: {
      userId: owner.userId,
      datasetId: owner.datasetId,
      baseModel: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
      gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
      imageName: "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel",
      containerDiskInGb: 20,
      volumeInGb: 20,
      maxRuntimeMinutes: 60,
      maxCostMicros: 10_000_000n,
      setupTimeoutMinutes: 10,
      ...over,
    },
  });
}
