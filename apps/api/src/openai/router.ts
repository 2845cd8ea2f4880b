import express, { Router, type RequestHandler } from "express";
import type { Logger } from "@trainpod/core";
import type { EndpointDeps } from "@trainpod/core";
import { openAiErrorHandler, openAiNotFound } from "./errors";
import { openAiFileRoutes, type OpenAiFileDeps } from "./files";
import { openAiJobRoutes, type OpenAiJobDeps } from "./jobs";
import { openAiWebhookRoutes } from "./webhooks";

export interface OpenAiRouteDeps {
  logger: Logger;
  /** the users' API key middleware (the trainpod API key is OpenAI's Bearer key) */
  auth: RequestHandler;
  files: OpenAiFileDeps;
  jobs: OpenAiJobDeps;
  webhooks: EndpointDeps;
}

/** The prefix OpenAI's SDKs take as their baseURL. */
export const OPENAI_PREFIX = "/openai/v1";

/**
 * OpenAI's fine-tuning API over trainpod's use cases (issue 33, docs/openai.md): files, fine-tuning jobs, their events
 * and checkpoints, and webhook endpoints. Every route takes the trainpod API key; every error is OpenAI's shape.
 */
export function openAiRoutes(deps: OpenAiRouteDeps): Router {
  const router = Router();
  router.use(deps.auth);
  router.use(openAiFileRoutes(deps.files));
  router.use(express.json({ limit: "256kb" }));
  router.use(openAiJobRoutes(deps.jobs));
  router.use(openAiWebhookRoutes(deps.webhooks));
  router.use(openAiNotFound);
  router.use(openAiErrorHandler(deps.logger));
  return router;
}
