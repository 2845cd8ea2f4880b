import { z } from "zod";
import type { Prisma, PrismaClient, UserLimits } from "../db";
import { usdToMicros } from "../pricing/money";
import { plainString } from "../deployment/plain-text";
import type { EffectiveLimits, SpendSettings } from "./settings";

type Db = Pick<PrismaClient, "userLimits"> | Prisma.TransactionClient;

/** A user's limits: the admin's overrides (UserLimits) over the configuration's defaults. */
export function effectiveLimitsOf(settings: SpendSettings, row: UserLimits | null): EffectiveLimits {
  return {
    monthlyBudgetMicros: row?.monthlyBudgetMicros ?? settings.monthlyBudgetMicros,
    onExceed: row?.onExceed === "STOP" ? "stop" : row?.onExceed === "BLOCK" ? "block" : settings.onExceed,
    maxLiveDeployments: row?.maxLiveDeployments ?? settings.maxLiveDeployments,
    maxGpus: row?.maxGpus ?? settings.maxGpus,
    allowedImages: [...settings.allowedImages, ...(row?.extraImages ?? [])],
  };
}

export async function effectiveLimits(db: Db, settings: SpendSettings, userId: string): Promise<EffectiveLimits> {
  return effectiveLimitsOf(settings, await db.userLimits.findUnique({ where: { userId } }));
}

const usd = z.union([z.string().regex(/^\d{1,9}(\.\d{1,6})?$/), z.number().min(0).max(999_999_999)]);

/** What an admin may set for one user; null puts a field back to the default. Unknown fields are refused. */
export const userLimitsInputSchema = z
  .object({
    monthlyBudgetUsd: usd.nullable().optional(),
    onExceed: z.enum(["block", "stop"]).nullable().optional(),
    maxLiveDeployments: z.number().int().min(0).max(10_000).nullable().optional(),
    maxGpus: z.number().int().min(0).max(100_000).nullable().optional(),
    extraImages: z.array(plainString().min(1).max(300)).max(50).optional(),
  })
  .strict();
export type UserLimitsInput = z.infer<typeof userLimitsInputSchema>;

/** The admin sets (or clears) one user's overrides. */
export async function setUserLimits(prisma: PrismaClient, userId: string, body: unknown): Promise<UserLimits> {
  const input = userLimitsInputSchema.parse(body);
  const data = {
    ...(input.monthlyBudgetUsd !== undefined
      ? { monthlyBudgetMicros: input.monthlyBudgetUsd === null ? null : usdToMicros(String(input.monthlyBudgetUsd)) }
      : {}),
    ...(input.onExceed !== undefined
      ? {
          onExceed: input.onExceed === null ? null : input.onExceed === "stop" ? ("STOP" as const) : ("BLOCK" as const),
        }
      : {}),
    ...(input.maxLiveDeployments !== undefined ? { maxLiveDeployments: input.maxLiveDeployments } : {}),
    ...(input.maxGpus !== undefined ? { maxGpus: input.maxGpus } : {}),
    ...(input.extraImages !== undefined ? { extraImages: input.extraImages } : {}),
  };
  return prisma.userLimits.upsert({ where: { userId }, create: { userId, ...data }, update: data });
}
