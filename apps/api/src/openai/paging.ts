import { AppError } from "@trainpod/core";

/** OpenAI's list query (`after`, `limit` 1-100, default 20; `order` desc only where a listing offers it). */
export function pageQuery(
  query: Record<string, unknown>,
  opts: { order?: boolean } = {},
): { limit: number; after?: string } {
  const raw = query.limit;
  const limit = raw === undefined ? 20 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new AppError("VALIDATION_FAILED", "limit must be an integer from 1 to 100", { details: { param: "limit" } });
  if (opts.order && query.order !== undefined && query.order !== "desc")
    throw new AppError("VALIDATION_FAILED", "order: trainpod lists newest first (desc) only", {
      details: { param: "order" },
    });
  const after = typeof query.after === "string" && query.after !== "" ? query.after : undefined;
  return { limit, ...(after !== undefined ? { after } : {}) };
}

/**
 * OpenAI's list of one page of `all` (in its order): the items after the one `after` names, `limit` at most;
 * an `after` that names none of them is 400 ("after is not <what>").
 */
export function pageOf<T extends { id: string }>(all: T[], page: { limit: number; after?: string }, what: string) {
  const { limit, after } = page;
  const start = after === undefined ? 0 : all.findIndex((e) => e.id === after) + 1;
  if (after !== undefined && start === 0)
    throw new AppError("VALIDATION_FAILED", `after is not ${what}`, { details: { param: "after" } });
  const data = all.slice(start, start + limit);
  return {
    object: "list" as const,
    data,
    has_more: start + limit < all.length,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  };
}
