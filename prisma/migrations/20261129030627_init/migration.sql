-- CreateEnum
CREATE TYPE "UserRole" AS ENUM ('USER', 'ADMIN');

-- CreateEnum
CREATE TYPE "DeploymentStatus" AS ENUM ('QUEUED', 'PROVISIONING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "FailureReason" AS ENUM ('NO_CAPACITY', 'RUNPOD_API_ERROR', 'DATASET_DOWNLOAD_FAILED', 'TRAINING_FAILED', 'SETUP_TIMEOUT', 'HEARTBEAT_TIMEOUT', 'MAX_RUNTIME_EXCEEDED', 'BUDGET_EXCEEDED', 'POD_VANISHED', 'INTERNAL_ERROR');

-- CreateEnum
CREATE TYPE "CloudType" AS ENUM ('SECURE', 'COMMUNITY');

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "role" "UserRole" NOT NULL DEFAULT 'USER',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "name" TEXT,
    "prefix" TEXT NOT NULL,
    "keyHash" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Dataset" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "rowCount" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Deployment" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "idempotencyKey" TEXT,
    "retryOfId" UUID,
    "baseModel" TEXT NOT NULL,
    "hyperparameters" JSONB NOT NULL DEFAULT '{}',
    "gpuTypeIds" TEXT[],
    "gpuCount" INTEGER NOT NULL DEFAULT 1,
    "cloudType" "CloudType" NOT NULL DEFAULT 'SECURE',
    "imageName" TEXT NOT NULL,
    "containerDiskInGb" INTEGER NOT NULL,
    "volumeInGb" INTEGER NOT NULL,
    "maxRuntimeMinutes" INTEGER NOT NULL,
    "maxCostMicros" BIGINT NOT NULL,
    "setupTimeoutMinutes" INTEGER NOT NULL,
    "status" "DeploymentStatus" NOT NULL DEFAULT 'QUEUED',
    "failureReason" "FailureReason",
    "failureMessage" TEXT,
    "exitCode" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "podId" TEXT,
    "gpuTypeId" TEXT,
    "costPerHrMicros" BIGINT,
    "cancelRequestedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "provisioningAt" TIMESTAMPTZ(3),
    "podCreatedAt" TIMESTAMPTZ(3),
    "runningAt" TIMESTAMPTZ(3),
    "trainingStartedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "podTerminatedAt" TIMESTAMPTZ(3),
    "lastHeartbeatAt" TIMESTAMPTZ(3),
    "runtimeSeconds" INTEGER,
    "costMicros" BIGINT,
    "progressStep" INTEGER,
    "progressTotalSteps" INTEGER,
    "progressLoss" DECIMAL(12,6),

    CONSTRAINT "Deployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeploymentEvent" (
    "id" BIGSERIAL NOT NULL,
    "deploymentId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "message" TEXT,
    "data" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DeploymentEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatasetDownloadToken" (
    "id" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "deploymentId" UUID,
    "datasetId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "claimedAt" TIMESTAMPTZ(3),
    "usedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DatasetDownloadToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RunToken" (
    "id" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "deploymentId" UUID NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "revokedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RunToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_keyHash_key" ON "ApiKey"("keyHash");

-- CreateIndex
CREATE INDEX "ApiKey_userId_idx" ON "ApiKey"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Dataset_storageKey_key" ON "Dataset"("storageKey");

-- CreateIndex
CREATE INDEX "Dataset_userId_createdAt_idx" ON "Dataset"("userId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Deployment_podId_key" ON "Deployment"("podId");

-- CreateIndex
CREATE INDEX "Deployment_status_idx" ON "Deployment"("status");

-- CreateIndex
CREATE INDEX "Deployment_userId_createdAt_idx" ON "Deployment"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "Deployment_status_podTerminatedAt_idx" ON "Deployment"("status", "podTerminatedAt");

-- CreateIndex
CREATE INDEX "Deployment_createdAt_idx" ON "Deployment"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Deployment_userId_idempotencyKey_key" ON "Deployment"("userId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "DeploymentEvent_deploymentId_createdAt_idx" ON "DeploymentEvent"("deploymentId", "createdAt");

-- CreateIndex
CREATE INDEX "DeploymentEvent_type_createdAt_idx" ON "DeploymentEvent"("type", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "DatasetDownloadToken_tokenHash_key" ON "DatasetDownloadToken"("tokenHash");

-- CreateIndex
CREATE INDEX "DatasetDownloadToken_deploymentId_idx" ON "DatasetDownloadToken"("deploymentId");

-- CreateIndex
CREATE INDEX "DatasetDownloadToken_expiresAt_idx" ON "DatasetDownloadToken"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "RunToken_tokenHash_key" ON "RunToken"("tokenHash");

-- CreateIndex
CREATE INDEX "RunToken_deploymentId_idx" ON "RunToken"("deploymentId");

-- CreateIndex
CREATE INDEX "RunToken_expiresAt_idx" ON "RunToken"("expiresAt");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_retryOfId_fkey" FOREIGN KEY ("retryOfId") REFERENCES "Deployment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeploymentEvent" ADD CONSTRAINT "DeploymentEvent_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "Deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetDownloadToken" ADD CONSTRAINT "DatasetDownloadToken_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "Deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetDownloadToken" ADD CONSTRAINT "DatasetDownloadToken_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RunToken" ADD CONSTRAINT "RunToken_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "Deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
