import { z } from "zod";

const DAY_MS = 24 * 3600_000;
/** The longest window one /v1/stats call may cover. */
export const MAX_STATS_WINDOW_DAYS = 3 * 366;

const instant = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .transform((v) => new Date(v));

/** The query of GET /v1/stats: a time window over deployments' createdAt, and the period of the cost series. */
export const statsQuerySchema = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    groupBy: z.enum(["day", "week", "month"]).default("month"),
  })
  .strict();

export interface StatsWindow {
  from: Date;
  to: Date;
  groupBy: "day" | "week" | "month";
}

/** Parses the query; the window defaults to the 30 days before `now`. `to` is exclusive. */
export function parseStatsQuery(query: unknown, now: Date): StatsWindow {
  const q = statsQuerySchema.parse(query);
  const to = q.to ?? now;
  const from = q.from ?? new Date(to.getTime() - 30 * DAY_MS);
  const issues: string[] = [];
  if (from.getTime() >= to.getTime()) issues.push("from must be before to");
  if (to.getTime() - from.getTime() > MAX_STATS_WINDOW_DAYS * DAY_MS)
    issues.push(`the window may cover at most ${MAX_STATS_WINDOW_DAYS} days`);
  if (issues.length > 0) {
    throw new z.ZodError(issues.map((message) => ({ code: "custom", message, path: ["from"], input: query })));
  }
  return { from, to, groupBy: q.groupBy };
}
