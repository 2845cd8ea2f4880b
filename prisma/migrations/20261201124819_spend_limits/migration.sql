-- CreateEnum
CREATE TYPE "BudgetAction" AS ENUM ('BLOCK', 'STOP');

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "slotWaitSince" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "UserLimits" (
    "userId" UUID NOT NULL,
    "monthlyBudgetMicros" BIGINT,
    "onExceed" "BudgetAction",
    "maxLiveDeployments" INTEGER,
    "maxGpus" INTEGER,
    "extraImages" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UserLimits_pkey" PRIMARY KEY ("userId")
);

-- AddForeignKey
ALTER TABLE "UserLimits" ADD CONSTRAINT "UserLimits_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
