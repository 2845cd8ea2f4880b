import type { Config } from "../config";
import type { PrismaClient } from "../db";
import type { Clock } from "../time/clock";

export const DATASET_TOKEN_PREFIX = "tp_ds_";
export const RUN_TOKEN_PREFIX = "tp_run_";

export interface TokenDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** TTLs (DATASET_TOKEN_TTL_MINUTES, RUN_TOKEN_TTL_HOURS) and publicUrl */
  config: Pick<Config, "env" | "publicUrl">;
}
