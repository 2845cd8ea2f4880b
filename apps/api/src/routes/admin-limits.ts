import { Router } from "express";
import { currentUserId } from "../http/auth";
import {
  AppError,
  cacheVolumeSpend,
  ownSpend,
  setUserLimits,
  spendReport,
  type CacheDeps,
  type Clock,
  type PrismaClient,
  type SpendSettings,
  type UserLimitsCache,
} from "@trainpod/core";

export interface AdminLimitRouteDeps {
  prisma: PrismaClient;
  clock: Clock;
  spend: SpendSettings;
  /** the process's cache of users' limits: a user's entry is dropped when an admin sets their limits */
  limitsCache?: UserLimitsCache;
  /** the cache volumes, whose monthly price the spend report shows (issue 28) */
  cache?: CacheDeps;
  usdPerGbMonth?: string;
}

/** GET /v1/spend: the caller's own limits and month spend (mounted behind the API key middleware). */
export function spendRoutes(deps: AdminLimitRouteDeps): Router {
  const router = Router();
  router.get("/v1/spend", async (req, res) => {
    res.json(await ownSpend(deps.prisma, deps.spend, currentUserId(req), deps.clock.now()));
  });
  return router;
}

/**
 * Spend against limit per user (admins and operators read) and each user's limits (admins set; an operator's
 * PUT is refused by adminAuth). Mounted behind adminAuth.
 */
export function adminLimitRoutes(deps: AdminLimitRouteDeps): Router {
  const router = Router();

  router.get("/v1/admin/spend", async (_req, res) => {
    const [items, volumes] = await Promise.all([
      spendReport(deps.prisma, deps.spend, deps.clock.now()),
      deps.cache?.directory.list() ?? null,
    ]);
    // the cache volumes bill per GB-month whether or not a pod uses them (null: none configured or unreadable)
    const cacheVolumes = volumes ? cacheVolumeSpend(volumes, deps.usdPerGbMonth ?? "0.07") : null;
    res.json({ items, cacheVolumes });
  });

  router.put("/v1/admin/users/:id/limits", async (req, res) => {
    const id = String(req.params.id);
    // the user's id, or their email
    const user = await deps.prisma.user.findUnique({
      where: /^[0-9a-f-]{36}$/i.test(id) ? { id } : { email: id },
      select: { id: true },
    });
    if (!user) throw new AppError("NOT_FOUND", "user not found");
    await setUserLimits(deps.prisma, user.id, req.body);
    deps.limitsCache?.drop(user.id);
    const view = (await spendReport(deps.prisma, deps.spend, deps.clock.now())).find((u) => u.userId === user.id);
    res.json(view);
  });

  return router;
}
