import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type express from "express";
import { Router } from "express";
import { canActOnScreens, type Queues } from "@trainpod/core";

export const BULL_BOARD_PATH = "/admin/queues";

function board(queues: Queues, readOnlyMode: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: Object.values(queues).map((q) => new BullMQAdapter(q, { readOnlyMode })),
    serverAdapter,
    options: { uiConfig: { boardTitle: readOnlyMode ? "trainpod queues (read-only)" : "trainpod queues" } },
  });
  // the adapter's own express app: it would announce itself (X-Powered-By: Express) on every answer
  const app = serverAdapter.getRouter() as express.Express;
  app.disable("x-powered-by");
  return app as unknown as Router;
}

/**
 * Bull Board over every queue of the job catalog; the caller mounts it behind adminAuth. Admins get
 * the full board; operators a read-only one (no action buttons; its action routes answer 405).
 */
export function bullBoardRouter(queues: Queues): Router {
  const full = board(queues, false);
  const readOnly = board(queues, true);
  const router = Router();
  router.use((req, res, next) => (req.user && canActOnScreens(req.user.role) ? full : readOnly)(req, res, next));
  return router;
}
