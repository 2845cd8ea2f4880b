-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "capacityWaits" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "terminateAttempts" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "DatasetDownloadToken_createdAt_idx" ON "DatasetDownloadToken"("createdAt");

-- CreateIndex
CREATE INDEX "Deployment_finishedAt_idx" ON "Deployment"("finishedAt");
