import { Router } from "express";
import {
  AppError,
  createEndpoint,
  deleteEndpoint,
  endpointObject,
  getOwnEndpoint,
  listEndpoints,
  type EndpointDeps,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { pageQuery } from "./paging";

/**
 * Webhook endpoints as OpenAI's API has them (`client.webhooks.create/list/retrieve/delete`): the signing secret is
 * answered once, at creation. Updating and rotating are not offered: delete and create again.
 */
export function openAiWebhookRoutes(deps: EndpointDeps): Router {
  const router = Router();

  router.post("/webhook_endpoints", async (req, res) => {
    res.status(200).json(await createEndpoint(deps, currentUserId(req), req.body));
  });

  router.get("/webhook_endpoints", async (req, res) => {
    const { limit, after } = pageQuery(req.query, { order: true });
    const all = await listEndpoints(deps.prisma, currentUserId(req));
    const start = after === undefined ? 0 : all.findIndex((e) => e.id === after) + 1;
    if (after !== undefined && start === 0)
      throw new AppError("VALIDATION_FAILED", "after is not an endpoint of this listing", {
        details: { param: "after" },
      });
    const data = all.slice(start, start + limit);
    res.json({
      object: "list",
      data,
      has_more: start + limit < all.length,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    });
  });

  router.get("/webhook_endpoints/:id", async (req, res) => {
    res.json(endpointObject(await getOwnEndpoint(deps.prisma, currentUserId(req), String(req.params.id))));
  });

  router.delete("/webhook_endpoints/:id", async (req, res) => {
    res.json(await deleteEndpoint(deps.prisma, currentUserId(req), String(req.params.id)));
  });

  return router;
}
