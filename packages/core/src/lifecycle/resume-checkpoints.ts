import type { Artifact, Deployment, PrismaClient } from "../db";
import type { ArtifactDeps } from "../artifacts/deps";
import { isTerminal } from "../deployment/state-machine";

/**
 * A run's checkpoints (issue 27) are artifacts of its deployment under `checkpoints/step-000120/` (the pod agent's
 * checkpoint_upload.py): the trainer's checkpoint folder, file by file, then `trainpod-checkpoint.json` last. A
 * checkpoint is complete once that manifest is stored; only complete ones are listed, resumed from, or counted
 * among the last K kept.
 */
export const CHECKPOINT_PREFIX = "checkpoints/";
export const CHECKPOINT_MANIFEST = "trainpod-checkpoint.json";
const MANIFEST_PATH = /^checkpoints\/step-(\d{6,})\/trainpod-checkpoint\.json$/;
const FOLDER = /^checkpoints\/step-(\d{6,})\//;
/** the last K checkpoints kept when the hyperparameters do not say (checkpoints_kept) */
export const DEFAULT_CHECKPOINTS_KEPT = 2;

export interface CheckpointView {
  /** the trainer's global step at the save */
  step: number;
  /** the checkpoint's folder among the deployment's artifacts: checkpoints/step-000120 */
  path: string;
  files: number;
  sizeBytes: number;
  /** when its manifest (its last file) was stored */
  createdAt: string;
}

/** Is this artifact path a checkpoint's manifest (the file that completes it)? Its step, else null. */
export function checkpointManifestStep(path: string): number | null {
  const m = MANIFEST_PATH.exec(path);
  return m ? Number(m[1]) : null;
}

/** The checkpoint folder of a step: checkpoints/step-000120. */
export function checkpointFolder(step: number): string {
  return `${CHECKPOINT_PREFIX}step-${String(step).padStart(6, "0")}`;
}

async function checkpointRows(prisma: PrismaClient, deploymentId: string): Promise<Artifact[]> {
  return prisma.artifact.findMany({
    where: { deploymentId, path: { startsWith: CHECKPOINT_PREFIX } },
    orderBy: { path: "asc" },
  });
}

function completeOf(rows: Artifact[]): CheckpointView[] {
  const out: CheckpointView[] = [];
  for (const manifest of rows) {
    const step = checkpointManifestStep(manifest.path);
    if (step === null || manifest.status !== "STORED") continue;
    const folder = `${checkpointFolder(step)}/`;
    const files = rows.filter((r) => r.status === "STORED" && r.path.startsWith(folder) && r !== manifest);
    out.push({
      step,
      path: checkpointFolder(step),
      files: files.length,
      sizeBytes: files.reduce((sum, r) => sum + Number(r.sizeBytes), 0),
      createdAt: (manifest.uploadedAt ?? manifest.createdAt).toISOString(),
    });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** A deployment's complete checkpoints, oldest first (the OpenAI-compatible API lists these too). */
export async function listCheckpoints(prisma: PrismaClient, deploymentId: string): Promise<CheckpointView[]> {
  return completeOf(await checkpointRows(prisma, deploymentId));
}

/** The checkpoint a new attempt starts from: the newest complete one of this deployment, else of the attempt it resumed, and so on. */
export async function latestCheckpointOfChain(
  prisma: PrismaClient,
  deployment: Pick<Deployment, "id" | "resumeOfId">,
): Promise<{ deploymentId: string; checkpoint: CheckpointView } | null> {
  let current: Pick<Deployment, "id" | "resumeOfId"> | null = deployment;
  for (let hops = 0; current !== null && hops < 100; hops++) {
    const found = (await listCheckpoints(prisma, current.id)).at(-1);
    if (found) return { deploymentId: current.id, checkpoint: found };
    current =
      current.resumeOfId === null
        ? null
        : await prisma.deployment.findUnique({
            where: { id: current.resumeOfId },
            select: { id: true, resumeOfId: true },
          });
  }
  return null;
}

/** The files of a resumed attempt's checkpoint: the attempt up its chain that holds `path`, and its stored files. */
export async function checkpointFilesOfChain(
  prisma: PrismaClient,
  deployment: Pick<Deployment, "resumeOfId">,
  path: string,
): Promise<Artifact[] | null> {
  let id = deployment.resumeOfId;
  for (let hops = 0; id !== null && hops < 100; hops++) {
    const rows = await prisma.artifact.findMany({
      where: { deploymentId: id, status: "STORED", path: { startsWith: `${path}/` } },
      orderBy: { path: "asc" },
    });
    if (rows.some((r) => checkpointManifestStep(r.path) !== null))
      return rows.filter((r) => checkpointManifestStep(r.path) === null);
    id = (await prisma.deployment.findUnique({ where: { id }, select: { resumeOfId: true } }))?.resumeOfId ?? null;
  }
  return null;
}

/** checkpoints_kept of a deployment's hyperparameters (default 2). */
export function checkpointsKept(hyperparameters: unknown): number {
  const k = (hyperparameters as { checkpoints_kept?: unknown } | null)?.checkpoints_kept;
  return typeof k === "number" && Number.isInteger(k) && k >= 1 ? k : DEFAULT_CHECKPOINTS_KEPT;
}

/** Deletes artifact rows and their objects (an unfinished multipart upload aborted first); answers how many. */
async function deleteFiles(deps: Pick<ArtifactDeps, "prisma" | "storage">, doomed: Artifact[]): Promise<number> {
  for (const row of doomed) {
    if (row.uploadId && deps.storage.direct)
      await deps.storage.direct.abortMultipartUpload(row.storageKey, row.uploadId).catch(() => undefined);
    await deps.storage.delete(row.storageKey);
  }
  if (doomed.length > 0) await deps.prisma.artifact.deleteMany({ where: { id: { in: doomed.map((r) => r.id) } } });
  return doomed.length;
}

/** The attempts a deployment resumed, nearest first, while each one's pod is gone (it can upload nothing more). */
async function endedAttemptsBefore(prisma: PrismaClient, deploymentId: string): Promise<string[]> {
  const out: string[] = [];
  let id = (await prisma.deployment.findUnique({ where: { id: deploymentId }, select: { resumeOfId: true } }))
    ?.resumeOfId;
  for (let hops = 0; id && hops < 100; hops++) {
    const a = await prisma.deployment.findUnique({
      where: { id },
      select: { id: true, resumeOfId: true, podTerminatedAt: true, podId: true, status: true },
    });
    if (!a || !isTerminal(a.status) || (a.podId !== null && a.podTerminatedAt === null)) break;
    out.push(a.id);
    id = a.resumeOfId;
  }
  return out;
}

/**
 * Keeps the last K complete checkpoints of a deployment's chain of attempts in storage (issue 27): its own newest
 * first, then those of the attempts it resumed, nearest first (their steps are all older). Once a newer one is
 * complete, every file of an older folder (complete or not) is deleted, objects then rows: of this deployment, the
 * folders older than its oldest kept; of an earlier attempt (ended, its pod gone), every checkpoint folder not kept,
 * so an interrupted attempt's checkpoints go once the attempt that resumed it has its own. Only `checkpoints/`
 * artifacts, never an adapter or another output. Called when a manifest is stored; answers the files deleted.
 */
export async function pruneCheckpoints(
  deps: Pick<ArtifactDeps, "prisma" | "storage">,
  deploymentId: string,
  keep: number,
): Promise<number> {
  const rows = await checkpointRows(deps.prisma, deploymentId);
  const complete = completeOf(rows);
  if (complete.length === 0) return 0;
  let deleted = 0;
  if (complete.length > keep) {
    const oldestKept = complete[complete.length - keep]!.step;
    deleted += await deleteFiles(
      deps,
      rows.filter((r) => {
        const m = FOLDER.exec(r.path);
        return m !== null && Number(m[1]) < oldestKept;
      }),
    );
  }
  let left = Math.max(0, keep - complete.length);
  for (const earlier of await endedAttemptsBefore(deps.prisma, deploymentId)) {
    const theirs = await checkpointRows(deps.prisma, earlier);
    const kept = left > 0 ? completeOf(theirs).slice(-left) : [];
    left -= kept.length;
    const keptFolders = kept.map((c) => `${c.path}/`);
    deleted += await deleteFiles(
      deps,
      theirs.filter((r) => FOLDER.test(r.path) && !keptFolders.some((folder) => r.path.startsWith(folder))),
    );
  }
  return deleted;
}
