import { z } from "zod";
import type { cacheVolumeSpend } from "@trainpod/core";
import { cacheVolumeCreateSchema } from "../routes/admin-cache";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";
import { shaped } from "./shaped";

/** The operators' cache volumes (issue 28, docs/operations.md#cache-volumes-setup-in-seconds-issue-28). */
const err = (description: string, code: string, message: string, details?: unknown): Body => ({
  description,
  schema: s.errorSchema,
  example: { error: { code, message, ...(details === undefined ? {} : { details }) } },
});

const money = z.string().regex(/^\d+\.\d{6}$/);
type Spend = ReturnType<typeof cacheVolumeSpend>;
const volumeSchema = shaped<Spend["items"][number]>()(
  z.object({
    id: z.string().describe("RunPod's network volume id"),
    name: z.string().describe("CACHE_VOLUME_NAME_PREFIX + the data centre"),
    dataCenter: z.string(),
    sizeGb: z.number().int(),
    type: z.string().nullable().describe("STANDARD or HIGH_PERFORMANCE, as RunPod answers it"),
    monthUsd: money.describe("its monthly price at CACHE_VOLUME_USD_PER_GB_MONTH"),
  }),
);
const spendSchema = shaped<Spend>()(
  z.object({
    usdPerGbMonth: z.string().describe("CACHE_VOLUME_USD_PER_GB_MONTH"),
    items: z.array(volumeSchema),
    monthUsd: money.describe("all of them, a month"),
  }),
);
const volumeExample = {
  id: "agv6w2qcg7",
  name: "trainpod-cache-EU-RO-1",
  dataCenter: "EU-RO-1",
  sizeGb: 200,
  type: "STANDARD",
  monthUsd: "14.000000",
};

const denied = (writes: boolean): Record<number, Body> => ({
  401: err("no or bad credential (HTTP Basic only on GET)", "UNAUTHORIZED", "admin login required"),
  403: err(
    writes ? "a USER's or an OPERATOR's key (creating and deleting are admins' only)" : "a USER's key",
    "FORBIDDEN",
    writes ? "admin only" : "admin or operator only",
  ),
});
const unavailable = {
  404: err("this API has no RunPod volume client", "NOT_FOUND", "cache volumes are not available on this API"),
  502: err("RunPod refused or answered badly", "RUNPOD_BAD_RESPONSE", "RunPod answered an unexpected body"),
  503: err("RunPod did not answer", "RUNPOD_UNAVAILABLE", "RunPod is unavailable"),
};

export const CACHE_VOLUME_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/v1/admin/cache-volumes",
    summary: "The cache volumes (RunPod's list now, no table) with each one's monthly price",
    tag: "admin",
    security: "admin",
    responses: {
      200: {
        description: "one per data centre at most",
        schema: spendSchema,
        example: { usdPerGbMonth: "0.07", items: [volumeExample], monthUsd: "14.000000" },
      },
      ...denied(false),
      ...unavailable,
    },
  },
  {
    method: "post",
    path: "/v1/admin/cache-volumes",
    summary: "Give a data centre its cache volume (a RunPod network volume every pod placed there mounts)",
    tag: "admin",
    security: "admin",
    body: {
      description: "the data centre, the size (10-4096 GB) and RunPod's volume type",
      schema: cacheVolumeCreateSchema,
      example: { dataCenter: "EU-RO-1", sizeGb: 200 },
    },
    responses: {
      201: { description: "created", schema: volumeSchema, example: volumeExample },
      400: err("not a data centre id, or a size out of range", "VALIDATION_FAILED", "request is invalid", [
        { path: "sizeGb", message: "Too small: expected number to be >=10" },
      ]),
      409: err(
        "the data centre has a cache volume already",
        "CONFLICT",
        "EU-RO-1 has a cache volume already: agv6w2qcg7 (200 GB)",
      ),
      ...denied(true),
      ...unavailable,
    },
  },
  {
    method: "delete",
    path: "/v1/admin/cache-volumes/{id}",
    summary: "Delete a cache volume, by its id or its data centre (pods placed there go on without it)",
    tag: "admin",
    security: "admin",
    responses: {
      200: {
        description: "deleted",
        schema: z.object({ deleted: z.string(), dataCenter: z.string() }),
        example: { deleted: "agv6w2qcg7", dataCenter: "EU-RO-1" },
      },
      ...denied(true),
      ...unavailable,
      404: err(
        "no such cache volume, or no RunPod volume client on this API",
        "NOT_FOUND",
        "no cache volume agv6w2qcg7",
      ),
    },
  },
];
