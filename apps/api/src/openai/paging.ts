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
