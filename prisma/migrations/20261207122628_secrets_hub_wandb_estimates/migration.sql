-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "estimatedCostMicros" BIGINT,
ADD COLUMN     "estimatedSeconds" INTEGER,
ADD COLUMN     "estimatedTokens" BIGINT,
ADD COLUMN     "hubMerged" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "hubPushError" TEXT,
ADD COLUMN     "hubPushedUrl" TEXT,
ADD COLUMN     "hubRepo" TEXT,
ADD COLUMN     "secretNames" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "trainTokens" BIGINT,
ADD COLUMN     "trainTokensPerSecond" DOUBLE PRECISION,
ADD COLUMN     "wandbName" TEXT,
ADD COLUMN     "wandbProject" TEXT,
ADD COLUMN     "wandbUrl" TEXT;

-- CreateTable
CREATE TABLE "UserSecret" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "iv" BYTEA NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "authTag" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UserSecret_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "UserSecret_userId_name_key" ON "UserSecret"("userId", "name");

-- AddForeignKey
ALTER TABLE "UserSecret" ADD CONSTRAINT "UserSecret_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
