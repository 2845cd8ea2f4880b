import { Prisma, type Deployment, type PrismaClient } from "../db";
import type { DeploymentRequest } from "./request-schema";
import { usdToMicros } from "./request-schema";
import { VALIDATED_DATASET_FORMATS } from "./preflight";

export interface InsertDeploymentInput {
  userId: string;
  request: DeploymentRequest;
  idempotencyKey?: string;
  retryOfId?: string;
  /** the `submitted` event's message and data (default "deployment queued") */
  event?: { message: string; data?: Record<string, string> };
}

/**
 * Stores a QUEUED deployment and its `submitted` event in ONE statement, only if the dataset exists,
 * belongs to the user and passed validation, and only if the Idempotency-Key is new for this user. Answers the row, or
 * null when nothing was written (dataset missing, not the user's or not validated, or the key was taken): the caller tells which.
 * One round trip instead of a lookup plus Prisma's nested-create transaction (the submission hot path).
 */
export async function insertDeployment(prisma: Pick<PrismaClient, "$queryRaw"> | Prisma.TransactionClient, input: InsertDeploymentInput): Promise<Deployment | null> {
  const r = input.request;
  const rows = await prisma.$queryRaw<Deployment[]>(Prisma.sql`
    WITH d AS (
      INSERT INTO "Deployment" (
        "id", "userId", "datasetId", "idempotencyKey", "retryOfId", "baseModel", "hyperparameters", "gpuTypeIds",
        "gpuCount", "cloudType", "imageName", "containerDiskInGb", "volumeInGb", "maxRuntimeMinutes",
        "maxCostMicros", "setupTimeoutMinutes", "dataCenterIds"
      )
      SELECT gen_random_uuid(), ds."userId", ds."id", ${input.idempotencyKey ?? null}, ${input.retryOfId ?? null}::uuid,
        ${r.baseModel}, ${JSON.stringify(r.hyperparameters)}::jsonb, ${r.gpuTypeIds}::text[],
        ${r.gpuCount}, ${r.cloudType}::"CloudType", ${r.image}, ${r.containerDiskInGb}, ${r.volumeInGb},
        ${r.maxRuntimeMinutes}, ${usdToMicros(r.maxCostUsd)}, ${r.setupTimeoutMinutes}, ${r.dataCenterIds}::text[]
      FROM "Dataset" ds
      WHERE ds."id" = ${r.datasetId}::uuid AND ds."userId" = ${input.userId}::uuid AND ds."deletedAt" IS NULL
        AND ds."format" = ANY(${VALIDATED_DATASET_FORMATS}::text[]) AND ds."rowCount" >= 1
      ON CONFLICT ("userId", "idempotencyKey") DO NOTHING
      RETURNING *
    ), e AS (
      INSERT INTO "DeploymentEvent" ("deploymentId", "type", "message", "data")
      SELECT d."id", 'submitted', ${input.event?.message ?? "deployment queued"}, ${input.event?.data ? JSON.stringify(input.event.data) : null}::jsonb FROM d
    )
    SELECT * FROM d`);
  return rows[0] ?? null;
}
