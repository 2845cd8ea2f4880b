-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "podRequestedAt" TIMESTAMPTZ(3);
