import type { Config } from "../config";
import type { PrismaClient } from "../db";
import type { Hub } from "../hub";
import type { BlobStorage } from "../storage";
import type { EstimateDeps } from "./estimate-deployment";
import { firstOf, hubModelFiles, localModelFiles } from "./model-source";

/**
 * The API's estimate settings: models' files from MODEL_FILES_DIR, then the hub (the model pre-flight's, with the
 * user's HF_TOKEN); undefined when neither is there (the simulator without either: estimates price the stated runtime).
 */
export function estimateDepsFor(
  config: Pick<Config, "env">,
  prisma: PrismaClient,
  storage: BlobStorage,
  models?: { hub: Hub; hubTokenFor(userId: string, names: readonly string[]): Promise<string | undefined> } | null,
): EstimateDeps | undefined {
  const env = config.env;
  const local = env.MODEL_FILES_DIR !== undefined ? localModelFiles(env.MODEL_FILES_DIR) : undefined;
  const hub = models ? hubModelFiles(models.hub) : undefined;
  if (local === undefined && hub === undefined) return undefined;
  return {
    prisma,
    storage,
    modelFiles: firstOf(local, hub),
    ...(models ? { hubTokenFor: (u: string, names: readonly string[]) => models.hubTokenFor(u, names) } : {}),
    maxRows: env.ESTIMATE_MAX_ROWS,
    budgetMs: env.ESTIMATE_TIME_BUDGET_MS,
    minRuns: env.ESTIMATE_MIN_RUNS,
  };
}
