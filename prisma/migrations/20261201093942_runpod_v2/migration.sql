-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "FailureReason" ADD VALUE 'INSUFFICIENT_BALANCE';
ALTER TYPE "FailureReason" ADD VALUE 'POD_ERROR';

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "dataCenterId" TEXT,
ADD COLUMN     "dataCenterIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "runpodBilledAt" TIMESTAMPTZ(3),
ADD COLUMN     "runpodBilledMicros" BIGINT,
ADD COLUMN     "runpodCpuMicros" BIGINT,
ADD COLUMN     "runpodDiskMicros" BIGINT,
ADD COLUMN     "runpodGpuMicros" BIGINT;
