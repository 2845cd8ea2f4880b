-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "lastEventSeq" INTEGER,
ADD COLUMN     "phase" TEXT,
ADD COLUMN     "phaseDone" BIGINT,
ADD COLUMN     "phaseStartedAt" TIMESTAMPTZ(3),
ADD COLUMN     "phaseState" TEXT,
ADD COLUMN     "phaseTotal" BIGINT,
ADD COLUMN     "phaseUnit" TEXT;
