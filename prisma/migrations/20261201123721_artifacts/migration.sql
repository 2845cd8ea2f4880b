-- CreateEnum
CREATE TYPE "ArtifactStatus" AS ENUM ('UPLOADING', 'STORED');

-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN     "deletedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "artifactsDeletedAt" TIMESTAMPTZ(3),
ADD COLUMN     "artifactsDeletedReason" TEXT;

-- CreateTable
CREATE TABLE "Artifact" (
    "id" UUID NOT NULL,
    "deploymentId" UUID NOT NULL,
    "path" TEXT NOT NULL,
    "storageKey" TEXT NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "status" "ArtifactStatus" NOT NULL DEFAULT 'UPLOADING',
    "uploadId" TEXT,
    "partSizeBytes" BIGINT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uploadedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Artifact_status_uploadedAt_idx" ON "Artifact"("status", "uploadedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Artifact_deploymentId_path_key" ON "Artifact"("deploymentId", "path");

-- AddForeignKey
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_deploymentId_fkey" FOREIGN KEY ("deploymentId") REFERENCES "Deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
