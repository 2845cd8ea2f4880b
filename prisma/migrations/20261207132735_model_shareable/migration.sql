-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "modelShareable" BOOLEAN NOT NULL DEFAULT false;
