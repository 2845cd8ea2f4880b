import { z } from "zod";
import { artifactDeclarationSchema, completeRequestSchema, uploadUrlRequestSchema } from "@trainpod/core";
import * as ex from "./examples";
import type { Body, Operation } from "./operations";
import * as s from "./response-schemas";

const err = (description: string, example: unknown = ex.errorExample): Body => ({
  description,
  schema: s.errorSchema,
  example,
});
const json = (schema: z.ZodType, example: unknown, description: string): Body => ({ schema, example, description });
const notFound = err("not yours or no such thing");
const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

export const artifactListSchema = z.object({
  items: z.array(
    z.object({ path: z.string(), sizeBytes: z.number().int(), sha256: z.string(), uploadedAt: z.string() }),
  ),
  totalBytes: z.number().int(),
  deletedAt: z.string().nullable(),
  deletedReason: z.enum(["retention", "owner"]).nullable(),
});
const listExample = {
  items: [{ path: "adapter_model.safetensors", sizeBytes: 1024, sha256: sha, uploadedAt: "2026-12-01T12:00:00.000Z" }],
  totalBytes: 1024,
  deletedAt: null,
  deletedReason: null,
};
const uploadPlanSchema = z.object({
  path: z.string(),
  mode: z.enum(["api", "s3", "s3-multipart", "stored"]),
  partSizeBytes: z.number().int(),
  partCount: z.number().int(),
});
const presignedSchema = z.object({
  method: z.literal("PUT"),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  expiresAt: z.string(),
});
const fileSchema = z.object({ path: z.string(), sizeBytes: z.number().int(), sha256: z.string() });
const fileExample = { path: "adapter_model.safetensors", sizeBytes: 1024, sha256: sha };

/** The artifact routes: the owner's (list, download, delete), the admins' list, and the pod's upload steps. */
export const ARTIFACT_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/v1/deployments/{id}/artifacts",
    summary: "A deployment's stored files (owner only)",
    tag: "artifacts",
    security: "apiKey",
    responses: { 200: json(artifactListSchema, listExample, "the files"), 404: notFound },
  },
  {
    method: "get",
    path: "/v1/deployments/{id}/artifacts/{path}",
    summary: "Download one file: Range and ETag; with S3 storage a presigned redirect",
    tag: "artifacts",
    security: "apiKey",
    headers: {
      Range: "bytes=N- or bytes=N-M: resume a broken download",
      "If-Range": "the ETag: the range only if the file is the same",
    },
    responses: {
      200: { description: "the bytes", contentType: "application/octet-stream" },
      206: { description: "the range", contentType: "application/octet-stream" },
      302: { description: "S3 storage: a presigned GET valid S3_PRESIGN_SECONDS" },
      404: notFound,
      416: err("the range is outside the file"),
    },
  },
  {
    method: "delete",
    path: "/v1/deployments/{id}/artifacts",
    summary: "Delete a closed deployment's files",
    tag: "artifacts",
    security: "apiKey",
    responses: {
      204: { description: "deleted (or nothing to delete)" },
      404: notFound,
      409: err("the deployment is live", {
        error: {
          code: "DEPLOYMENT_LIVE",
          message: "the deployment is still live; cancel it or wait for its outcome first",
        },
      }),
    },
  },
  {
    method: "delete",
    path: "/v1/datasets/{id}",
    summary: "Delete a dataset (its file; the record stays for past deployments)",
    tag: "datasets",
    security: "apiKey",
    responses: {
      204: { description: "deleted" },
      404: notFound,
      409: err("a live deployment uses it", {
        error: {
          code: "DATASET_IN_USE",
          message: "live deployments use this dataset; cancel them or wait for their outcome first",
        },
      }),
    },
  },
  {
    method: "get",
    path: "/v1/admin/deployments/{id}/artifacts",
    summary: "Any deployment's stored files",
    tag: "admin",
    security: "admin",
    responses: { 200: json(artifactListSchema, listExample, "the files"), 404: notFound },
  },
  {
    method: "post",
    path: "/v1/runs/{id}/artifacts",
    summary: "A pod declares a file (path, size, sha256) and learns how to send it",
    tag: "runs",
    security: "runToken",
    body: json(artifactDeclarationSchema, fileExample, "the file"),
    responses: {
      201: json(
        uploadPlanSchema,
        { path: "adapter_model.safetensors", mode: "api", partSizeBytes: 1024, partCount: 1 },
        "how to send it",
      ),
      400: err("bad path, size or sha256"),
      401: err("run token invalid"),
      413: err("over the per-file or the per-deployment quota"),
    },
  },
  {
    method: "post",
    path: "/v1/runs/{id}/artifacts/url",
    summary: "A presigned PUT for a declared file or one of its parts",
    tag: "runs",
    security: "runToken",
    body: json(
      uploadUrlRequestSchema,
      { path: "model.safetensors", partNumber: 1, sha256: sha },
      "the file (and part)",
    ),
    responses: {
      200: json(
        presignedSchema,
        {
          method: "PUT",
          url: "https://bucket.s3.amazonaws.com/artifacts/…",
          headers: {
            "content-length": "67108864",
            "x-amz-checksum-sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
          },
          expiresAt: "2026-12-01T12:01:00.000Z",
        },
        "signed",
      ),
      401: err("run token invalid"),
      409: err("not declared, or the storage takes uploads through the API"),
    },
  },
  {
    method: "post",
    path: "/v1/runs/{id}/artifacts/complete",
    summary: "The file (or all its parts) is in the bucket: check and record it",
    tag: "runs",
    security: "runToken",
    body: json(
      completeRequestSchema,
      {
        path: "model.safetensors",
        parts: [{ partNumber: 1, etag: '"08b46181d7094b5ece88bb389c7499af"', sha256: sha }],
      },
      "the file and its parts' ETags and sha256",
    ),
    responses: {
      200: json(fileSchema, fileExample, "recorded"),
      401: err("run token invalid"),
      409: err("not declared or not in the bucket"),
      422: err("size differs from the declaration: deleted"),
    },
  },
  {
    method: "get",
    path: "/v1/runs/{id}/agent",
    summary: "A pod's bootstrap fetches the pod agent (a Python zipapp) and checks it against its pinned sha256",
    tag: "runs",
    security: "runToken",
    responses: {
      200: {
        description: "the zipapp (`python agent.pyz`); `X-Content-SHA256` its sha256, the one in TRAINPOD_AGENT_SHA256",
        contentType: "application/zip",
      },
      401: err("run token invalid, expired or revoked"),
    },
  },
  {
    method: "put",
    path: "/v1/runs/{id}/artifacts/{path}",
    summary: "A pod uploads a declared file through the API (mode api)",
    tag: "runs",
    security: "runToken",
    body: { description: "the file's bytes", contentType: "application/octet-stream" },
    responses: {
      201: json(fileSchema, fileExample, "stored, size and sha256 checked"),
      401: err("run token invalid"),
      409: err("not declared"),
      422: err("size or sha256 differs from the declaration: nothing kept"),
    },
  },
  {
    method: "post",
    path: "/v1/runs/{id}/dataset/url",
    summary: "A pod whose presigned dataset URL expired gets a fresh one (S3 storage, token spent on the redirect)",
    tag: "runs",
    security: "runToken",
    responses: {
      200: json(
        z.object({ url: z.string(), expiresAt: z.string() }),
        { url: "https://bucket.s3.amazonaws.com/datasets/…", expiresAt: "2026-12-01T13:00:00.000Z" },
        "a presigned GET of the same object, valid S3_DATASET_PRESIGN_SECONDS; resume with Range",
      ),
      401: err("run token invalid, expired or revoked"),
      409: err(
        "local storage (NOT_A_BUCKET: the token URL streams the bytes), the deployment ended, or the token URL was not used yet",
        {
          error: {
            code: "NOT_A_BUCKET",
            message: "the dataset is served through the API at its token URL: no URL to re-issue",
          },
        },
      ),
    },
  },
];
