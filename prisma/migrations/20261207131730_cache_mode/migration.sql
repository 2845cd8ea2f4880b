-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "cacheMode" TEXT NOT NULL DEFAULT 'prefer';
