import { z } from "zod";
import { AppError } from "../errors";
import type { Dataset, PrismaClient } from "../db";

export const datasetListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** id of the last dataset of the previous page */
  cursor: z.string().uuid().optional(),
});

/** What the API shows of a dataset (never its storage key). */
export interface DatasetView {
  id: string;
  name: string;
  format: string;
  rowCount: number;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
}

export function datasetView(d: Dataset): DatasetView {
  return {
    id: d.id,
    name: d.name,
    format: d.format,
    rowCount: d.rowCount,
    sizeBytes: Number(d.sizeBytes),
    sha256: d.sha256,
    createdAt: d.createdAt.toISOString(),
  };
}

/** A user's datasets, newest first, keyset-paged by (createdAt, id). */
export async function listDatasets(
  prisma: PrismaClient,
  userId: string,
  query: unknown,
): Promise<{ items: Dataset[]; nextCursor: string | null }> {
  const q = datasetListQuerySchema.parse(query);
  if (
    q.cursor &&
    !(await prisma.dataset.findFirst({ where: { id: q.cursor, userId, deletedAt: null }, select: { id: true } }))
  ) {
    throw new AppError("VALIDATION_FAILED", "cursor is not a dataset of this listing");
  }
  const rows = await prisma.dataset.findMany({
    where: { userId, deletedAt: null },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: q.limit + 1,
    ...(q.cursor ? { cursor: { id: q.cursor }, skip: 1 } : {}),
  });
  const items = rows.slice(0, q.limit);
  return { items, nextCursor: rows.length > q.limit ? (items.at(-1)?.id ?? null) : null };
}

/** One of the user's datasets; someone else's (or a malformed id) answers NOT_FOUND. */
export async function getOwnDataset(prisma: PrismaClient, userId: string, id: string): Promise<Dataset> {
  const ok = z.string().uuid().safeParse(id);
  const d = ok.success ? await prisma.dataset.findFirst({ where: { id, userId, deletedAt: null } }) : null;
  if (!d) throw new AppError("NOT_FOUND", "dataset not found");
  return d;
}
