import { Prisma, type Deployment, type DeploymentEvent, type PrismaClient } from "../db";
import { queryNamed } from "../db/named-statement";
import { queuedDeploymentRow, withGenerated, type GeneratedColumns } from "./deployment-row";
import { pgPoolOf } from "../db/prisma";
import type { DeploymentRequest } from "./request-schema";
import { METHOD_DATASET_FORMATS } from "./preflight";
import { trainingMethod } from "./hyperparameters";

/**
 * The deployment's SQL: the statements Prisma's query builder cannot say in one round trip. (The running
 * cost of live pods is in cost.ts, beside the rule it repeats.)
 */

export interface InsertDeploymentInput {
  userId: string;
  request: DeploymentRequest;
  idempotencyKey?: string;
  retryOfId?: string;
  /** a resumed attempt (issue 27): the attempt it resumes, its number, and the checkpoint it starts from */
  resume?: { ofId: string; attempt: number; fromStep: number; fromPath: string };
  /** the `submitted` event's message and data (default "deployment queued") */
  event?: { message: string; data?: Record<string, string | number> };
  /** the hub said the model is public and ungated (the cache's shared HF_HOME); default false: a per-user one */
  modelShareable?: boolean;
}

/**
 * Stores a QUEUED deployment and its `submitted` event in ONE statement, only if the dataset exists,
 * belongs to the user and passed validation in a format the request's method trains on (issue 26: DPO's preference
 * rows), only if the user has every secret it names (none named: no such condition), and only if the Idempotency-Key
 * is new for this user. Answers the row, or
 * null when nothing was written (dataset missing, not the user's or not validated, or the key was taken): the caller tells which.
 * One round trip instead of a lookup plus Prisma's nested-create transaction (the submission hot path).
 */
export async function insertDeployment(
  prisma: Pick<PrismaClient, "$queryRaw"> | Prisma.TransactionClient,
  input: InsertDeploymentInput,
): Promise<Deployment | null> {
  const v = queuedDeploymentRow(input);
  const q = Prisma.sql`
    WITH d AS (
      INSERT INTO "Deployment" (
        "id", "userId", "datasetId", "idempotencyKey", "retryOfId", "baseModel", "hyperparameters", "gpuTypeIds",
        "gpuCount", "cloudType", "imageName", "containerDiskInGb", "volumeInGb", "maxRuntimeMinutes",
        "maxCostMicros", "setupTimeoutMinutes", "dataCenterIds", "secretNames", "hubRepo", "hubMerged", "wandbProject",
        "wandbName", "resumeOfId", "attempt", "resumedFromStep", "resumedFromPath", "autoResumeMaxAttempts",
        "cacheMode", "modelShareable"
      )
      SELECT gen_random_uuid(), ds."userId", ds."id", ${v.idempotencyKey}, ${v.retryOfId}::uuid,
        ${v.baseModel}, ${JSON.stringify(v.hyperparameters)}::jsonb, ${v.gpuTypeIds}::text[],
        ${v.gpuCount}, ${v.cloudType}::"CloudType", ${v.imageName}, ${v.containerDiskInGb}, ${v.volumeInGb},
        ${v.maxRuntimeMinutes}, ${v.maxCostMicros}, ${v.setupTimeoutMinutes}, ${v.dataCenterIds}::text[],
        ${v.secretNames}::text[], ${v.hubRepo}, ${v.hubMerged}, ${v.wandbProject},
        ${v.wandbName}, ${v.resumeOfId}::uuid, ${v.attempt},
        ${v.resumedFromStep}::int, ${v.resumedFromPath}, ${v.autoResumeMaxAttempts},
        ${v.cacheMode}, ${v.modelShareable}
      FROM "Dataset" ds
      WHERE ds."id" = ${v.datasetId}::uuid AND ds."userId" = ${v.userId}::uuid AND ds."deletedAt" IS NULL
        AND ds."format" = ANY(${[...METHOD_DATASET_FORMATS[trainingMethod(input.request.hyperparameters)]]}::text[])
        AND ds."rowCount" >= 1 ${everySecretSet(input)}
      ON CONFLICT ("userId", "idempotencyKey") DO NOTHING
      RETURNING "id", "createdAt", "updatedAt"
    ), e AS (
      INSERT INTO "DeploymentEvent" ("deploymentId", "type", "message", "data")
      SELECT d."id", 'submitted', ${input.event?.message ?? "deployment queued"}, ${input.event?.data ? JSON.stringify(input.event.data) : null}::jsonb FROM d
    )
    SELECT * FROM d`;
  // outside a transaction: a named prepared statement on the client's own pool (parsed and planned once per connection)
  const pool = pgPoolOf(prisma);
  const rows = pool ? await queryNamed<GeneratedColumns>(pool, q) : await prisma.$queryRaw<GeneratedColumns[]>(q);
  // the row is what was inserted plus what the database generated (deployment-row.ts: reading it back cost a fifth
  // of the submission's CPU)
  return rows[0] ? withGenerated(v, rows[0]) : null;
}

/** With `secrets`: the INSERT's condition that the user has every one of them (none: no condition, no extra work). */
function everySecretSet(input: InsertDeploymentInput): Prisma.Sql {
  const names = input.request.secrets;
  if (names.length === 0) return Prisma.empty;
  return Prisma.sql`AND (SELECT count(*) FROM "UserSecret" us WHERE us."userId" = ${input.userId}::uuid
    AND us."name" = ANY(${names}::text[])) = ${names.length}::int`;
}

/**
 * Counts a terminate call on a deployment whose pod is not terminated yet, and answers when the first call
 * started (this one's `callStart` if it is the first); undefined when the pod's termination is recorded already.
 */
export async function markTerminateRequested(
  prisma: PrismaClient,
  deploymentId: string,
  callStart: Date,
): Promise<Date | undefined> {
  const marked = await prisma.$queryRaw<Array<{ at: Date }>>`
    UPDATE "Deployment" SET "terminateAttempts" = "terminateAttempts" + 1, "terminateRequestedAt" = COALESCE("terminateRequestedAt", ${callStart})
    WHERE "id" = ${deploymentId}::uuid AND "podTerminatedAt" IS NULL RETURNING "terminateRequestedAt" AS at`;
  return marked[0]?.at;
}

/** Closes a deployment that never had a pod at zero runtime, keeping a cost already charged to it (an orphan's). */
export async function closeWithoutPod(prisma: PrismaClient, deploymentId: string, now: Date): Promise<void> {
  await prisma.$executeRaw`UPDATE "Deployment" SET "podTerminatedAt" = ${now}, "runtimeSeconds" = 0, "costMicros" = COALESCE("costMicros", 0) WHERE "id" = ${deploymentId}::uuid AND "podId" IS NULL AND "podTerminatedAt" IS NULL`;
}

/** Did the pod report that it deletes itself (the start script's dead-man switch logs `self-terminating:`)? */
export async function reportedSelfTermination(prisma: PrismaClient, deploymentId: string): Promise<boolean> {
  const rows = await prisma.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM "DeploymentEvent"
    WHERE "deploymentId" = ${deploymentId}::uuid AND "type" = 'log' AND "data"::text LIKE '%self-terminating:%'`;
  return (rows[0]?.n ?? 0) > 0;
}

/** Adds an orphan pod's cost to the deployment it was created for, when that deployment recorded no pod of its own. */
export async function chargeOrphanCost(prisma: PrismaClient, deploymentId: string, micros: bigint): Promise<void> {
  await prisma.$executeRaw`UPDATE "Deployment" SET "costMicros" = COALESCE("costMicros", 0) + ${micros} WHERE "id" = ${deploymentId}::uuid AND "podId" IS NULL`;
}

/** One timeline read: a deployment's events with an id above `after`, oldest first, at most `limit`. */
export interface EventsRead {
  deploymentId: string;
  after: bigint;
  limit: number;
}

type EventRow = DeploymentEvent & { sub: bigint };

/** Several timeline reads in ONE query (a LATERAL read each); the answer has one list per read, in their order. */
export async function eventsAfterEach(
  prisma: PrismaClient,
  reads: readonly EventsRead[],
): Promise<DeploymentEvent[][]> {
  const ids = reads.map((r) => r.deploymentId);
  const after = reads.map((r) => r.after.toString());
  const limits = reads.map((r) => r.limit);
  const rows = await prisma.$queryRaw<EventRow[]>`
    SELECT s.sub, e."id", e."deploymentId", e."type", e."message", e."data", e."createdAt"
    FROM unnest(${ids}::uuid[], ${after}::bigint[], ${limits}::int[]) WITH ORDINALITY AS s(did, after, lim, sub)
    CROSS JOIN LATERAL (
      SELECT * FROM "DeploymentEvent" ev WHERE ev."deploymentId" = s.did AND ev."id" > s.after ORDER BY ev."id" LIMIT s.lim
    ) e
    ORDER BY s.sub, e."id"`;
  const out: DeploymentEvent[][] = reads.map(() => []);
  for (const { sub, ...event } of rows) out[Number(sub) - 1]?.push({ ...event, id: BigInt(event.id) });
  return out;
}
