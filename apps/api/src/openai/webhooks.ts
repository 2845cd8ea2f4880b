import { Router } from "express";
import {
  createEndpoint,
  deleteEndpoint,
  endpointObject,
  getOwnEndpoint,
  listEndpoints,
  type EndpointDeps,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { pageOf, pageQuery } from "./paging";

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
    const page = pageQuery(req.query, { order: true });
    res.json(pageOf(await listEndpoints(deps.prisma, currentUserId(req)), page, "an endpoint of this listing"));
  });

  router.get("/webhook_endpoints/:id", async (req, res) => {
    res.json(endpointObject(await getOwnEndpoint(deps.prisma, currentUserId(req), String(req.params.id))));
  });

  router.delete("/webhook_endpoints/:id", async (req, res) => {
    res.json(await deleteEndpoint(deps.prisma, currentUserId(req), String(req.params.id)));
  });

  return router;
}
