import { z } from "zod";
import { hyperparametersSchema } from "./hyperparameters";
import { normalizeImage } from "./image-reference";
import { plainString } from "./plain-text";

/** RunPod's published PyTorch image: torch 2.8.0, CUDA 12.8.1, Python 3.12 (runpod/containers, official-templates/pytorch) */
export const DEFAULT_IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204";

const usd = z
  .union([z.number(), z.string().regex(/^\d{1,7}(\.\d{1,6})?$/)])
  .transform((v) => String(v))
  .refine((v) => /^\d{1,7}(\.\d{1,6})?$/.test(v) && Number(v) > 0, "a positive amount of USD with at most 6 decimals");

/** Typed and checked like train.py does: a bad value is a 422 before anything is spent. */
const hyperparameters = hyperparametersSchema.default({});

/** An environment variable's name: how a secret is named, and how the pod sees it. */
export const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;
const secretName = z
  .string()
  .regex(SECRET_NAME, "an environment variable name: A-Z, 0-9 and _, not starting with a digit");

/** A Hugging Face repo id, `owner/name`, as the hub accepts it. */
export const HUB_REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

/** The body of POST /v1/deployments. */
export const deploymentRequestSchema = z
  .object({
    datasetId: z.string().uuid(),
    // its form (a hub repo id or an absolute path on the pod) is a pre-flight problem, with the reason (base-model.ts)
    baseModel: z.string().min(1).max(200),
    hyperparameters,
    gpuTypeIds: z.array(plainString().min(1).max(100)).min(1).max(10),
    gpuCount: z
      .number()
      .int()
      .min(1)
      .max(8)
      .default(1)
      .describe(
        "GPUs of the pod; above 1 one trainer process per GPU (torchrun; hyperparameter distributed: ddp or fsdp)",
      ),
    cloudType: z.enum(["SECURE", "COMMUNITY"]).default("SECURE"),
    // an empty or malformed image is a pre-flight problem (reported with the others, with the reason), not a schema
    // error; a well-formed one is normalized (image-reference.ts) before the allowlist sees it and it is stored
    image: z.string().max(300).default(DEFAULT_IMAGE).transform(normalizeImage),
    containerDiskInGb: z.number().int().min(5).max(2000).default(50),
    // RunPod v2's persistent mount has a 10 GB floor; 0 = no volume
    volumeInGb: z
      .number()
      .int()
      .max(4000)
      .refine((v) => v === 0 || v >= 10, "must be 0 (no volume) or at least 10 (RunPod's floor)")
      .default(50),
    /** RunPod data centres to place the pod in (empty: RunPod chooses) */
    dataCenterIds: z
      .array(z.string().regex(/^[A-Z0-9-]{2,40}$/, "a RunPod data centre id like US-TX-3"))
      .max(20)
      .default([]),
    maxRuntimeMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(240),
    maxCostUsd: usd.default("50"),
    setupTimeoutMinutes: z.number().int().min(1).max(240).default(20),
    /** names of the user's secrets (POST /v1/secrets) the pod gets as env, e.g. HF_TOKEN, WANDB_API_KEY */
    secrets: z
      .array(secretName)
      .max(20)
      .refine((names) => new Set(names).size === names.length, "each secret at most once")
      .default([]),
    /** push the adapter (and merged weights if asked) to this Hugging Face repo at the end, with the user's HF_TOKEN */
    hub: z
      .object({
        repo: z.string().regex(HUB_REPO_ID, "a Hugging Face repo id, owner/name"),
        merged: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /**
     * the operators' cache volumes (packages and model weights on a network volume, issue 28): prefer a data centre
     * with one (default), require one, or never use one
     */
    cache: z.enum(["prefer", "require", "off"]).default("prefer"),
    /** report to Weights & Biases as well, with the user's WANDB_API_KEY */
    wandb: z
      .object({
        project: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, "a W&B project name: A-Z a-z 0-9 . _ -"),
        name: plainString().min(1).max(128).optional(),
      })
      .strict()
      .optional(),
    /** after a pod's failure (lost, RunPod ERROR, silent), a new attempt resumes from the last checkpoint (issue 27) */
    autoResume: z
      .object({
        maxAttempts: z.number().int().min(2).max(10).describe("attempts in all, the first one included"),
      })
      .strict()
      .optional(),
  })
  .strict();

export type DeploymentRequest = z.infer<typeof deploymentRequestSchema>;
