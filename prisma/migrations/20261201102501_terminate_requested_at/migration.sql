-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "terminateRequestedAt" TIMESTAMPTZ(3);
