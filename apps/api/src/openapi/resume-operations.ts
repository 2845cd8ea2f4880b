import { z } from "zod";
import * as ex from "./examples";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";

/** Issue 27: resuming an interrupted run from its last checkpoint (the owner's routes and the new pod's). */
const err = (description: string, example: unknown = ex.errorExample): Body => ({
  description,
  schema: s.errorSchema,
  example,
});

const checkpointSchema = z.object({
  step: z.number().int(),
  path: z.string(),
  files: z.number().int(),
  sizeBytes: z.number().int(),
  createdAt: z.string(),
});
const checkpointExample = {
  step: 120,
  path: "checkpoints/step-000120",
  files: 7,
  sizeBytes: 52_431_012,
  createdAt: "2026-12-01T12:30:00.000Z",
};
const resumed = { ...ex.deploymentExample, status: "QUEUED" };

const planSchema = z.object({
  path: z.string(),
  step: z.number().int(),
  files: z.array(
    z.object({
      path: z.string(),
      sizeBytes: z.number().int(),
      sha256: z.string(),
      url: z.string(),
      auth: z.boolean(),
    }),
  ),
});

export const RESUME_OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/v1/deployments/{id}/resume",
    summary:
      "Resume one of your interrupted deployments (FAILED or CANCELLED, its pod gone) from its last checkpoint: a new attempt linked by resume.resumeOfId, with its own pod and cost (a second call returns the first)",
    tag: "deployments",
    security: "apiKey",
    responses: {
      202: { description: "the new attempt, queued", schema: s.deploymentSchema, example: resumed },
      200: { description: "the attempt an earlier call created", schema: s.deploymentSchema, example: resumed },
      404: err("not found, or not yours"),
      409: err("still live, its pod still being terminated, no checkpoint stored, or its maxCost spent", {
        error: {
          code: "CONFLICT",
          message:
            "no checkpoint to resume from: the run stopped before its first checkpoint was stored (retry it instead)",
        },
      }),
    },
  },
  {
    method: "get",
    path: "/v1/deployments/{id}/checkpoints",
    summary: "A deployment's complete checkpoints (the last checkpoints_kept), oldest first",
    tag: "deployments",
    security: "apiKey",
    responses: {
      200: {
        description: "the checkpoints",
        schema: z.object({ items: z.array(checkpointSchema) }),
        example: { items: [checkpointExample] },
      },
      404: err("not found, or not yours"),
    },
  },
  {
    method: "get",
    path: "/v1/runs/{id}/resume",
    summary: "A resumed attempt's pod lists the files of the checkpoint it starts from (an earlier attempt's)",
    tag: "runs",
    security: "runToken",
    responses: {
      200: {
        description: "each file with a URL: through the API with the run token (auth), or a presigned GET",
        schema: planSchema,
        example: {
          path: "checkpoints/step-000120",
          step: 120,
          files: [
            {
              path: "optimizer.pt",
              sizeBytes: 1024,
              sha256: "a".repeat(64),
              url: "/v1/runs/6f1c0a4e-3b2d-4c1e-9f8a-1b2c3d4e5f60/resume/files/optimizer.pt",
              auth: true,
            },
          ],
        },
      },
      401: err("run token invalid, expired or revoked"),
      404: err("this deployment does not resume, or its checkpoint is gone"),
    },
  },
  {
    method: "get",
    path: "/v1/runs/{id}/resume/files/{path}",
    summary: "A resumed attempt's pod downloads one file of its checkpoint through the API (local storage)",
    tag: "runs",
    security: "runToken",
    responses: {
      200: { description: "the file's bytes", contentType: "application/octet-stream" },
      401: err("run token invalid"),
      404: err("no such file in the checkpoint"),
    },
  },
];
