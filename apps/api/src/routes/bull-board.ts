import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Router } from "express";
import type { Queues } from "@trainpod/core";

export const BULL_BOARD_PATH = "/admin/queues";

/** Bull Board over every queue of the job catalog; the caller mounts it behind adminAuth. */
export function bullBoardRouter(queues: Queues): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: Object.values(queues).map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: "trainpod queues" } },
  });
  return serverAdapter.getRouter() as Router;
}
