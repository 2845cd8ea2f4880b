-- AlterEnum
ALTER TYPE "FailureReason" ADD VALUE 'TRAINING_STALLED';

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "lastProgressAt" TIMESTAMPTZ(3);
