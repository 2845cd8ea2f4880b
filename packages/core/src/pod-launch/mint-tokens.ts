import { newSecret, sha256Hex } from "../auth/secret";
import { AppError } from "../errors";
import { datasetDownloadUrl } from "./pod-urls";
import { DATASET_TOKEN_PREFIX, RUN_TOKEN_PREFIX, type TokenDeps } from "./token-deps";

export interface MintedDatasetToken {
  id: string;
  /** the plaintext token: handed to the pod, never stored or logged */
  token: string;
  /** `${publicUrl}/v1/datasets/download?token=<token>` */
  url: string;
  expiresAt: Date;
}

export interface MintedRunToken {
  id: string;
  token: string;
  expiresAt: Date;
}

async function deploymentOf(deps: TokenDeps, deploymentId: string) {
  const d = await deps.prisma.deployment.findUnique({
    where: { id: deploymentId },
    select: { id: true, userId: true, datasetId: true },
  });
  if (!d) throw new AppError("NOT_FOUND", "deployment not found");
  return d;
}

/** A single-use download URL for the deployment's dataset. Only the token's sha256 is stored. */
export async function mintDatasetToken(deps: TokenDeps, input: { deploymentId: string }): Promise<MintedDatasetToken> {
  const d = await deploymentOf(deps, input.deploymentId);
  const token = newSecret(DATASET_TOKEN_PREFIX);
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.env.DATASET_TOKEN_TTL_MINUTES * 60_000);
  const row = await deps.prisma.datasetDownloadToken.create({
    data: {
      tokenHash: sha256Hex(token),
      deploymentId: d.id,
      datasetId: d.datasetId,
      userId: d.userId,
      expiresAt,
      createdAt: deps.clock.now(),
    },
    select: { id: true },
  });
  const url = datasetDownloadUrl(deps.config.publicUrl, token);
  return { id: row.id, token, url, expiresAt };
}

/** The bearer credential of a deployment's pod (events, artifacts). Only its sha256 is stored. */
export async function mintRunToken(deps: TokenDeps, input: { deploymentId: string }): Promise<MintedRunToken> {
  const d = await deploymentOf(deps, input.deploymentId);
  const token = newSecret(RUN_TOKEN_PREFIX);
  const expiresAt = new Date(deps.clock.now().getTime() + deps.config.env.RUN_TOKEN_TTL_HOURS * 3_600_000);
  const row = await deps.prisma.runToken.create({
    data: { tokenHash: sha256Hex(token), deploymentId: d.id, expiresAt, createdAt: deps.clock.now() },
    select: { id: true },
  });
  return { id: row.id, token, expiresAt };
}
