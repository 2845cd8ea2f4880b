import type { Deployment, Prisma } from "../db";
import { usdToMicros } from "../pricing/money";
import type { InsertDeploymentInput } from "./insert-deployment";

/**
 * The row a submission's INSERT stores, built here from what it inserts instead of read back (`RETURNING *`):
 * reading ~75 columns cost Postgres about 40 µs and pg about 110 µs of the API's CPU per submission (pg builds a
 * parser and a property per column of every row). The INSERT returns what only the database knows (id, createdAt,
 * updatedAt); every other column of a new row is what it inserted or its schema default. One object literal (a
 * spread of 75 keys cost 48 µs, this a fraction of one); the compiler checks that it names every column, and
 * deployment-row.int.test.ts that it equals Prisma's read of the row (BENCHMARKS.md, issue 32 item 2).
 */
export function queuedDeploymentRow(input: InsertDeploymentInput): Deployment {
  const r = input.request;
  return {
    // the database's: set from the INSERT's RETURNING (withGenerated)
    id: "",
    createdAt: EPOCH,
    updatedAt: EPOCH,
    // what the INSERT stores
    userId: input.userId,
    datasetId: r.datasetId,
    idempotencyKey: input.idempotencyKey ?? null,
    retryOfId: input.retryOfId ?? null,
    baseModel: r.baseModel,
    hyperparameters: r.hyperparameters as Prisma.JsonValue,
    gpuTypeIds: r.gpuTypeIds,
    gpuCount: r.gpuCount,
    cloudType: r.cloudType,
    imageName: r.image,
    containerDiskInGb: r.containerDiskInGb,
    volumeInGb: r.volumeInGb,
    maxRuntimeMinutes: r.maxRuntimeMinutes,
    maxCostMicros: usdToMicros(r.maxCostUsd),
    setupTimeoutMinutes: r.setupTimeoutMinutes,
    dataCenterIds: r.dataCenterIds,
    secretNames: r.secrets,
    hubRepo: r.hub?.repo ?? null,
    hubMerged: r.hub?.merged ?? false,
    wandbProject: r.wandb?.project ?? null,
    wandbName: r.wandb?.name ?? null,
    resumeOfId: input.resume?.ofId ?? null,
    attempt: input.resume?.attempt ?? 1,
    resumedFromStep: input.resume?.fromStep ?? null,
    resumedFromPath: input.resume?.fromPath ?? null,
    autoResumeMaxAttempts: r.autoResume?.maxAttempts ?? 0,
    cacheMode: r.cache,
    modelShareable: input.modelShareable === true,
    // the schema's defaults
    status: "QUEUED",
    attempts: 0,
    capacityWaits: 0,
    terminateAttempts: 0,
    hubPushedUrl: null,
    hubPushError: null,
    wandbUrl: null,
    estimatedTokens: null,
    estimatedSeconds: null,
    estimatedCostMicros: null,
    trainTokens: null,
    trainTokensPerSecond: null,
    failureReason: null,
    failureMessage: null,
    exitCode: null,
    podId: null,
    gpuTypeId: null,
    dataCenterId: null,
    costPerHrMicros: null,
    cancelRequestedAt: null,
    slotWaitSince: null,
    provisioningAt: null,
    podRequestedAt: null,
    podCreatedAt: null,
    runningAt: null,
    trainingStartedAt: null,
    finishedAt: null,
    podTerminatedAt: null,
    terminateRequestedAt: null,
    lastHeartbeatAt: null,
    runtimeSeconds: null,
    costMicros: null,
    progressStep: null,
    progressTotalSteps: null,
    progressLoss: null,
    phase: null,
    phaseState: null,
    phaseStartedAt: null,
    phaseDone: null,
    phaseTotal: null,
    phaseUnit: null,
    lastEventSeq: null,
    lastProgressAt: null,
    runpodBilledMicros: null,
    runpodGpuMicros: null,
    runpodCpuMicros: null,
    runpodDiskMicros: null,
    runpodBilledAt: null,
    artifactsDeletedAt: null,
    artifactsDeletedReason: null,
  };
}

const EPOCH = new Date(0);

/** What only the database knows of a new row: the INSERT's RETURNING. */
export interface GeneratedColumns {
  id: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The row with the database's generated columns filled in (the same keys: its shape does not change). */
export function withGenerated(row: Deployment, generated: GeneratedColumns): Deployment {
  row.id = generated.id;
  row.createdAt = generated.createdAt;
  row.updatedAt = generated.updatedAt;
  return row;
}
