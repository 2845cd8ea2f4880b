import { z } from "zod";
import type { Deployment, PrismaClient } from "../db";
import { AppError } from "../errors";
import { DEPLOYMENT_STATUSES, LIVE_STATUSES } from "./state-machine";

/** Any user's deployment (admin use); an unknown or malformed id answers NOT_FOUND. */
export async function findDeployment(prisma: PrismaClient, id: string): Promise<Deployment> {
  const d = z.string().uuid().safeParse(id).success ? await prisma.deployment.findUnique({ where: { id } }) : null;
  if (!d) throw new AppError("NOT_FOUND", "deployment not found");
  return d;
}

export const adminListQuerySchema = z
  .object({
    status: z.enum([...DEPLOYMENT_STATUSES, "LIVE"]).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** Every user's deployments, newest first (the dashboard's tables). LIVE = queued, provisioning or running. */
export async function listAllDeployments(prisma: PrismaClient, query: unknown): Promise<Deployment[]> {
  const q = adminListQuerySchema.parse(query);
  const status = q.status === "LIVE" ? { in: [...LIVE_STATUSES] } : q.status;
  return prisma.deployment.findMany({
    where: status ? { status } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: q.limit,
  });
}
