import { z } from "zod";
import { AppError } from "../errors";
import type { Deployment, PrismaClient } from "../db";
import { DEPLOYMENT_STATUSES } from "./state-machine";

export const listQuerySchema = z.object({
  status: z.enum(DEPLOYMENT_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** id of the last deployment of the previous page */
  cursor: z.string().uuid().optional(),
});

/**
 * A user's deployments, newest first, keyset-paged by (createdAt, id). The cursor must be one of the user's
 * deployments: Prisma positions the page at the cursor row whoever owns it, so another user's id would page
 * relative to their deployment (and tell it exists); it answers exactly as an unknown id does.
 */
export async function listDeployments(prisma: PrismaClient, userId: string, query: unknown) {
  const q = listQuerySchema.parse(query);
  if (q.cursor && !(await prisma.deployment.findFirst({ where: { id: q.cursor, userId }, select: { id: true } }))) {
    throw new AppError("VALIDATION_FAILED", "cursor is not a deployment of this listing");
  }
  const rows = await prisma.deployment.findMany({
    where: { userId, ...(q.status ? { status: q.status } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: q.limit + 1,
    ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
  });
  const page = rows.slice(0, q.limit);
  return { items: page, nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null };
}

/** One of the user's deployments; someone else's answers NOT_FOUND, never FORBIDDEN. */
export async function getOwnDeployment(prisma: PrismaClient, userId: string, id: string): Promise<Deployment> {
  const ok = z.string().uuid().safeParse(id);
  const d = ok.success ? await prisma.deployment.findFirst({ where: { id, userId } }) : null;
  if (!d) throw new AppError("NOT_FOUND", "deployment not found");
  return d;
}

export async function deploymentEvents(prisma: PrismaClient, deploymentId: string, limit = 500) {
  return prisma.deploymentEvent.findMany({ where: { deploymentId }, orderBy: { id: "asc" }, take: limit });
}
