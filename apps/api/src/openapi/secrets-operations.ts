import { z } from "zod";
import { secretInputSchema } from "@trainpod/core";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";

const err = (description: string, example: unknown): Body => ({ description, schema: s.errorSchema, example });

/** A secret as the API shows it: its name and dates, never its value. */
export const secretSchema = z.object({ name: z.string(), createdAt: z.string(), updatedAt: z.string() });
const secretExample = {
  name: "HF_TOKEN",
  createdAt: "2026-12-08T10:00:00.000Z",
  updatedAt: "2026-12-08T10:00:00.000Z",
};

/** The caller's own secrets: env of their pods (a deployment's `secrets` names them), encrypted at rest, never answered. */
export const SECRETS_OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/v1/secrets",
    summary: "Set one of your secrets (created or replaced); the value is never answered",
    tag: "secrets",
    security: "apiKey",
    body: {
      description: "an environment variable name, and the value (at most 64 KiB of UTF-8)",
      schema: secretInputSchema,
      example: { name: "HF_TOKEN", value: "hf_…" },
    },
    responses: {
      200: {
        description: "replaced",
        schema: secretSchema,
        example: { ...secretExample, updatedAt: "2026-12-09T08:30:00.000Z" },
      },
      201: { description: "created", schema: secretSchema, example: secretExample },
      400: err("not an environment variable name, or an empty, NUL-holding or too long value", {
        error: {
          code: "VALIDATION_FAILED",
          message: "request is invalid",
          details: [{ path: "value", message: "at most 65536 bytes" }],
        },
      }),
      422: err("a name the pod itself uses (TRAINPOD_*, RUNPOD_*, PATH, HOME, PYTHONPATH, LD_PRELOAD, …)", {
        error: {
          code: "UNPROCESSABLE",
          message: "PATH cannot be a secret's name: PATH is set by the pod itself",
          details: { name: "PATH", reason: "PATH is set by the pod itself" },
        },
      }),
    },
  },
  {
    method: "get",
    path: "/v1/secrets",
    summary: "Your secrets' names and dates (never their values)",
    tag: "secrets",
    security: "apiKey",
    responses: {
      200: {
        description: "by name",
        schema: z.object({ items: z.array(secretSchema) }),
        example: { items: [secretExample, { ...secretExample, name: "WANDB_API_KEY" }] },
      },
    },
  },
  {
    method: "delete",
    path: "/v1/secrets/{name}",
    summary: "Delete one of your secrets (a queued deployment naming it then fails at its launch)",
    tag: "secrets",
    security: "apiKey",
    responses: {
      204: { description: "deleted" },
      404: err("you have no secret of that name", {
        error: { code: "NOT_FOUND", message: 'no secret named "HF_TOKEN"' },
      }),
    },
  },
];
