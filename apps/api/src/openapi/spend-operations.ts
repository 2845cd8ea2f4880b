import { z } from "zod";
import { userLimitsInputSchema } from "@trainpod/core";
import * as ex from "./examples";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";

const err = (description: string, example: unknown = ex.errorExample): Body => ({
  description,
  schema: s.errorSchema,
  example,
});

export const userSpendSchema = z.object({
  userId: z.string(),
  email: z.string(),
  limits: z.object({
    monthlyBudgetUsd: z.string(),
    onExceed: z.enum(["block", "stop"]),
    maxLiveDeployments: z.number().int(),
    maxGpus: z.number().int(),
    allowedImages: z.array(z.string()),
  }),
  overrides: z.array(z.string()),
  month: z.string(),
  spentUsd: z.string(),
  liveRemainingUsd: z.string(),
  liveDeployments: z.number().int(),
  gpusInUse: z.number().int(),
  waiting: z.number().int(),
});
const userSpendExample = {
  userId: "0b6f4a52-8d0e-4b8e-9a53-3f1f1f6a2c11",
  email: "alice@example.com",
  limits: {
    monthlyBudgetUsd: "500.000000",
    onExceed: "block",
    maxLiveDeployments: 2,
    maxGpus: 8,
    allowedImages: ["runpod/*"],
  },
  overrides: ["monthlyBudgetUsd", "maxLiveDeployments"],
  month: "2026-12",
  spentUsd: "12.402100",
  liveRemainingUsd: "37.597900",
  liveDeployments: 1,
  gpusInUse: 1,
  waiting: 0,
};

const ownSpendSchema = z.object({
  month: z.string(),
  limits: userSpendSchema.shape.limits,
  spentUsd: z.string(),
  liveRemainingUsd: z.string(),
  availableUsd: z.string().nullable(),
  liveDeployments: z.number().int(),
  podsInUse: z.number().int(),
  gpusInUse: z.number().int(),
});

/** Spend control: the caller's own spend, the admins' view of spend against limits, and each user's limits. */
export const SPEND_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/v1/spend",
    summary: "Your limits and this month's spend",
    tag: "spend",
    security: "apiKey",
    responses: {
      200: {
        description: "limits and spend",
        schema: ownSpendSchema,
        example: {
          month: "2026-12",
          limits: userSpendExample.limits,
          spentUsd: "12.402100",
          liveRemainingUsd: "37.597900",
          availableUsd: "450.000000",
          liveDeployments: 1,
          podsInUse: 1,
          gpusInUse: 1,
        },
      },
    },
  },
  {
    method: "get",
    path: "/v1/admin/spend",
    summary: "Spend against limit per user this month",
    tag: "admin",
    security: "admin",
    responses: {
      200: {
        description: "one row per user",
        schema: z.object({ items: z.array(userSpendSchema) }),
        example: { items: [userSpendExample] },
      },
    },
  },
  {
    method: "put",
    path: "/v1/admin/users/{id}/limits",
    summary: "Set (or, with null, clear) one user's limits; {id} is the user's id or email",
    tag: "admin",
    security: "admin",
    body: {
      description: "the fields to set",
      schema: userLimitsInputSchema,
      example: { monthlyBudgetUsd: "500", onExceed: "block", maxLiveDeployments: 2 },
    },
    responses: {
      200: { description: "the user's limits and spend", schema: userSpendSchema, example: userSpendExample },
      400: err("unknown field or bad value"),
      404: err("no such user"),
    },
  },
];
