import type { Request } from "express";

/** The `*path` wildcard of a route, its segments joined with `/` (checked later by core's artifactPath). */
export function pathParam(req: Request): string {
  return ([] as string[]).concat((req.params as Record<string, string | string[]>).path ?? []).join("/");
}
