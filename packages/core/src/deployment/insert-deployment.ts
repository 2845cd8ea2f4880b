import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { Prisma, type Deployment, type PrismaClient } from "../db";
import { NaturalBatcher } from "../batch/natural-batch";
import { queryNamed } from "../db/named-statement";
import { pgPoolOf } from "../db/prisma";
import { queuedDeploymentRow, withGenerated, type GeneratedColumns } from "./deployment-row";
import { trainingMethod } from "./hyperparameters";
import { METHOD_DATASET_FORMATS } from "./preflight";
import type { DeploymentRequest } from "./request-schema";

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

/** The columns a submission stores, with their types, as the statement reads them from its one JSON parameter. */
const STORED = [
  ["id", "uuid"],
  ["userId", "uuid"],
  ["datasetId", "uuid"],
  ["idempotencyKey", "text"],
  ["retryOfId", "uuid"],
  ["baseModel", "text"],
  ["hyperparameters", "jsonb"],
  ["gpuTypeIds", "text[]"],
  ["gpuCount", "int"],
  ["cloudType", '"CloudType"'],
  ["imageName", "text"],
  ["containerDiskInGb", "int"],
  ["volumeInGb", "int"],
  ["maxRuntimeMinutes", "int"],
  ["maxCostMicros", "bigint"],
  ["setupTimeoutMinutes", "int"],
  ["dataCenterIds", "text[]"],
  ["secretNames", "text[]"],
  ["hubRepo", "text"],
  ["hubMerged", "boolean"],
  ["wandbProject", "text"],
  ["wandbName", "text"],
  ["resumeOfId", "uuid"],
  ["attempt", "int"],
  ["resumedFromStep", "int"],
  ["resumedFromPath", "text"],
  ["autoResumeMaxAttempts", "int"],
  ["cacheMode", "text"],
  ["modelShareable", "boolean"],
] as const satisfies ReadonlyArray<readonly [keyof Deployment, string]>;
/** what each row carries besides: the dataset formats its method trains on, and its `submitted` event */
const EXTRA = [
  ["formats", "text[]"],
  ["eventMessage", "text"],
  ["eventData", "jsonb"],
] as const;

type Stored = (typeof STORED)[number][0] | (typeof EXTRA)[number][0];

/** One row of the statement's JSON parameter: STORED's columns (the compiler checks it names each once) and EXTRA. */
function storedRecord(row: Deployment, input: InsertDeploymentInput): Record<Stored, unknown> {
  return {
    id: row.id,
    userId: row.userId,
    datasetId: row.datasetId,
    idempotencyKey: row.idempotencyKey,
    retryOfId: row.retryOfId,
    baseModel: row.baseModel,
    hyperparameters: row.hyperparameters,
    gpuTypeIds: row.gpuTypeIds,
    gpuCount: row.gpuCount,
    cloudType: row.cloudType,
    imageName: row.imageName,
    containerDiskInGb: row.containerDiskInGb,
    volumeInGb: row.volumeInGb,
    maxRuntimeMinutes: row.maxRuntimeMinutes,
    maxCostMicros: row.maxCostMicros.toString(),
    setupTimeoutMinutes: row.setupTimeoutMinutes,
    dataCenterIds: row.dataCenterIds,
    secretNames: row.secretNames,
    hubRepo: row.hubRepo,
    hubMerged: row.hubMerged,
    wandbProject: row.wandbProject,
    wandbName: row.wandbName,
    resumeOfId: row.resumeOfId,
    attempt: row.attempt,
    resumedFromStep: row.resumedFromStep,
    resumedFromPath: row.resumedFromPath,
    autoResumeMaxAttempts: row.autoResumeMaxAttempts,
    cacheMode: row.cacheMode,
    modelShareable: row.modelShareable,
    formats: METHOD_DATASET_FORMATS[trainingMethod(input.request.hyperparameters)],
    eventMessage: input.event?.message ?? "deployment queued",
    eventData: input.event?.data ?? null,
  };
}

const quoted = (names: readonly string[]) => names.map((n) => `"${n}"`).join(", ");
const storedNames = STORED.map(([name]) => name);
const recordType = [...STORED, ...EXTRA].map(([name, type]) => `"${name}" ${type}`).join(", ");

/**
 * Stores QUEUED deployments and their `submitted` events in ONE statement, each row only if its dataset exists,
 * belongs to its user and passed validation in a format its method trains on (issue 26: DPO's preference rows), only
 * if its user has every secret it names, and only if its Idempotency-Key is new for its user (a key twice in one
 * statement stores the first). The rows travel as one JSON parameter, so the text is the same for 1 row or 200: one
 * prepared statement. The rows as stored, in the inputs' order; null where nothing was written (the caller tells why).
 */
export async function insertDeployments(
  db: Pick<PrismaClient, "$queryRaw"> | Prisma.TransactionClient,
  inputs: readonly InsertDeploymentInput[],
  pool?: Pool,
): Promise<Array<Deployment | null>> {
  // the ids are made here, so that each answered row finds its input
  const rows = inputs.map((input) => Object.assign(queuedDeploymentRow(input), { id: randomUUID() }));
  const records = inputs.map((input, i) => storedRecord(rows[i] as Deployment, input));
  const q = Prisma.sql`${INSERT_HEAD}${JSON.stringify(records)}${INSERT_TAIL}`;
  // outside a transaction: a named prepared statement on the client's own pool (parsed and planned once per connection)
  const stored = pool ? await queryNamed<GeneratedColumns>(pool, q) : await db.$queryRaw<GeneratedColumns[]>(q);
  const byId = new Map(stored.map((g) => [g.id, g]));
  // the rows are what was inserted plus what the database generated (deployment-row.ts: reading them back cost a
  // fifth of the submission's CPU)
  return rows.map((row) => {
    const generated = byId.get(row.id);
    return generated ? withGenerated(row, generated) : null;
  });
}

const INSERT_HEAD = Prisma.raw(`
    WITH r AS (SELECT * FROM jsonb_to_recordset(`);
const INSERT_TAIL = Prisma.raw(`::jsonb) AS x(${recordType})
    ), d AS (
      INSERT INTO "Deployment" (${quoted(storedNames)})
      SELECT ${storedNames.map((n) => `r."${n}"`).join(", ")}
      FROM r JOIN "Dataset" ds ON ds."id" = r."datasetId" AND ds."userId" = r."userId" AND ds."deletedAt" IS NULL
        AND ds."format" = ANY(r."formats") AND ds."rowCount" >= 1
      WHERE cardinality(r."secretNames") = 0
        OR (SELECT count(*) FROM "UserSecret" us WHERE us."userId" = r."userId" AND us."name" = ANY(r."secretNames"))
          = cardinality(r."secretNames")
      ON CONFLICT ("userId", "idempotencyKey") DO NOTHING
      RETURNING "id", "createdAt", "updatedAt"
    ), e AS (
      INSERT INTO "DeploymentEvent" ("deploymentId", "type", "message", "data")
      SELECT d."id", 'submitted', r."eventMessage", r."eventData" FROM d JOIN r ON r."id" = d."id"
    )
    SELECT * FROM d`);

/** submissions stored at once by one statement at most, and such statements out at once per pool */
const BATCH = { maxBatch: 100, maxInFlight: 4 };
const batchers = new WeakMap<Pool, NaturalBatcher<InsertDeploymentInput, Deployment | null>>();

/**
 * Stores one QUEUED deployment (insertDeployments). Outside a transaction, submissions that arrive while earlier
 * ones are being stored share the next statement (NaturalBatcher: no waiting on a timer).
 */
export async function insertDeployment(
  prisma: Pick<PrismaClient, "$queryRaw"> | Prisma.TransactionClient,
  input: InsertDeploymentInput,
): Promise<Deployment | null> {
  const pool = pgPoolOf(prisma);
  if (!pool) return (await insertDeployments(prisma, [input]))[0] ?? null;
  let batcher = batchers.get(pool);
  if (!batcher) {
    batcher = new NaturalBatcher((inputs) => insertDeployments(prisma, inputs, pool), BATCH);
    batchers.set(pool, batcher);
  }
  return batcher.submit(input);
}
