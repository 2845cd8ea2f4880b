import { AppError } from "../errors";
import type { Artifact, Deployment, PrismaClient } from "../db";
import { artifactPath } from "./artifact-path";

export interface ArtifactView {
  path: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt: string;
}

export interface ArtifactListView {
  items: ArtifactView[];
  totalBytes: number;
  /** when the files were deleted, and why ("retention" | "owner"); null while they are kept */
  deletedAt: string | null;
  deletedReason: string | null;
}

export function artifactView(a: Artifact): ArtifactView {
  return {
    path: a.path,
    sizeBytes: Number(a.sizeBytes),
    sha256: a.sha256,
    uploadedAt: (a.uploadedAt ?? a.createdAt).toISOString(),
  };
}

/**
 * A deployment's stored files, by path (files still on their way are not shown). Its checkpoints (`checkpoints/`,
 * issue 27) are not among them: GET /v1/deployments/:id/checkpoints lists those, each file still downloadable by path.
 */
export async function listArtifacts(
  prisma: PrismaClient,
  deployment: Pick<Deployment, "id" | "artifactsDeletedAt" | "artifactsDeletedReason">,
): Promise<ArtifactListView> {
  const rows = await prisma.artifact.findMany({
    where: { deploymentId: deployment.id, status: "STORED", NOT: { path: { startsWith: "checkpoints/" } } },
    orderBy: { path: "asc" },
  });
  const items = rows.map(artifactView);
  return {
    items,
    totalBytes: items.reduce((sum, a) => sum + a.sizeBytes, 0),
    deletedAt: deployment.artifactsDeletedAt?.toISOString() ?? null,
    deletedReason: deployment.artifactsDeletedReason ?? null,
  };
}

/** One stored file of a deployment; NOT_FOUND for anything else (on its way, deleted, a bad path). */
export async function storedArtifact(prisma: PrismaClient, deploymentId: string, path: string): Promise<Artifact> {
  let clean: string;
  try {
    clean = artifactPath(path);
  } catch {
    throw new AppError("NOT_FOUND", "artifact not found");
  }
  const row = await prisma.artifact.findUnique({ where: { deploymentId_path: { deploymentId, path: clean } } });
  if (!row || row.status !== "STORED") throw new AppError("NOT_FOUND", "artifact not found");
  return row;
}
