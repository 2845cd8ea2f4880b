import { z } from "zod";
import { AppError } from "../errors";
import { SECRET_NAME } from "../deployment/request-schema";

/** A secret's value: at most 64 KiB of UTF-8, not empty, no NUL (an environment variable cannot hold one). */
export const SECRET_VALUE_MAX_BYTES = 64 * 1024;

/** Names the pod itself uses: a secret may not shadow them (the run's own tokens, RunPod's, the shell's, Python's). */
const RESERVED_PREFIXES = ["TRAINPOD_", "RUNPOD_", "LD_", "DYLD_", "PYTHON", "BASH_FUNC_", "NVIDIA_", "CUDA_"];
const RESERVED_NAMES = new Set([
  "PATH",
  "HOME",
  "USER",
  "SHELL",
  "PWD",
  "TMPDIR",
  "IFS",
  "ENV",
  "BASH_ENV",
  "NODE_OPTIONS",
  "PUBLIC_KEY",
  "JUPYTER_PASSWORD",
  "PIP_INDEX_URL",
  "PIP_EXTRA_INDEX_URL",
  "HF_HOME",
  "HF_ENDPOINT",
]);

/** Why `name` may not be a secret's name, or null when it may. */
export function reservedSecretName(name: string): string | null {
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix !== undefined) return `names starting ${prefix} are the pod's own`;
  if (RESERVED_NAMES.has(name)) return `${name} is set by the pod itself`;
  return null;
}

/** The body of POST /v1/secrets. Error messages never quote the value. */
export const secretInputSchema = z
  .object({
    name: z.string().regex(SECRET_NAME, "an environment variable name: A-Z, 0-9 and _, not starting with a digit"),
    value: z
      .string()
      .min(1, "must not be empty")
      .refine((v) => Buffer.byteLength(v, "utf8") <= SECRET_VALUE_MAX_BYTES, `at most ${SECRET_VALUE_MAX_BYTES} bytes`)
      .refine((v) => !v.includes("\u0000"), "must not contain a NUL character"),
  })
  .strict();
export type SecretInput = z.infer<typeof secretInputSchema>;

/** Throws UNPROCESSABLE (422) for a name the pod itself uses. */
export function assertSecretNameAllowed(name: string): void {
  const reason = reservedSecretName(name);
  if (reason !== null)
    throw new AppError("UNPROCESSABLE", `${name} cannot be a secret's name: ${reason}`, {
      details: { name, reason },
    });
}
