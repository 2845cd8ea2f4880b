-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "autoResumeMaxAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "resumeOfId" UUID,
ADD COLUMN     "resumedFromPath" TEXT,
ADD COLUMN     "resumedFromStep" INTEGER;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_resumeOfId_fkey" FOREIGN KEY ("resumeOfId") REFERENCES "Deployment"("id") ON DELETE SET NULL ON UPDATE CASCADE;
