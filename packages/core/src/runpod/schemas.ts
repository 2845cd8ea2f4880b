import { z } from "zod";

/**
 * Shapes of RunPod REST v1 (`shared/runpod/openapi-v1.json`: PodCreateInput, Pod).
 * The spec marks no field as required; we require what trainpod depends on and let
 * every other field through untouched (`looseObject`), so a new RunPod field never breaks us.
 */

export const POD_DESIRED_STATUSES = ["RUNNING", "EXITED", "TERMINATED"] as const;
export const PodDesiredStatusSchema = z.enum(POD_DESIRED_STATUSES);
export type PodDesiredStatus = z.infer<typeof PodDesiredStatusSchema>;

const stringList = z.array(z.string());

/**
 * The fields of PodCreateInput that trainpod sends. Strict, so a misspelt field fails here
 * instead of being silently ignored by RunPod. Only types are checked: ranges and GPU type
 * names are RunPod's to judge (it answers 400).
 */
export const PodCreateInputSchema = z.strictObject({
  name: z.string().min(1).max(191),
  imageName: z.string().min(1),
  gpuTypeIds: stringList.optional(),
  gpuTypePriority: z.enum(["availability", "custom"]).optional(),
  gpuCount: z.number().int().optional(),
  cloudType: z.enum(["SECURE", "COMMUNITY"]).optional(),
  computeType: z.enum(["GPU", "CPU"]).optional(),
  containerDiskInGb: z.number().int().optional(),
  volumeInGb: z.number().int().optional(),
  volumeMountPath: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
  dockerStartCmd: stringList.optional(),
  dockerEntrypoint: stringList.optional(),
  ports: stringList.optional(),
  interruptible: z.boolean().optional(),
  dataCenterIds: stringList.optional(),
});
export type PodCreateInput = z.infer<typeof PodCreateInputSchema>;

/** USD per hour. RunPod's own docs show it both as a JSON number and as a string ("0.74"). */
const usdPerHour = z.union([
  z.number().finite().nonnegative(),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, "a decimal number")
    .transform(Number),
]);

/** `env` is an object in REST v1; RunPod's GraphQL (and older answers) use ["KEY=value", ...]. */
const envSchema = z.union([
  z.record(z.string(), z.string()),
  stringList.transform((pairs) => Object.fromEntries(pairs.map(splitEnvPair))),
]);

function splitEnvPair(pair: string): [string, string] {
  const at = pair.indexOf("=");
  return at < 0 ? [pair, ""] : [pair.slice(0, at), pair.slice(at + 1)];
}

const optionalText = z.string().nullish();

export const PodGpuSchema = z.looseObject({
  id: z.string(),
  count: z.number().int(),
  displayName: z.string().optional(),
});

export const PodSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  desiredStatus: PodDesiredStatusSchema,
  costPerHr: usdPerHour,
  adjustedCostPerHr: usdPerHour.optional(),
  gpu: PodGpuSchema.nullish(),
  machineId: optionalText,
  lastStartedAt: optionalText,
  lastStatusChange: optionalText,
  image: optionalText,
  imageName: optionalText,
  env: envSchema.nullish(),
  publicIp: optionalText,
  portMappings: z.record(z.string(), z.number()).nullish(),
  ports: stringList.nullish(),
  interruptible: z.boolean().nullish(),
});
export type Pod = z.infer<typeof PodSchema>;

/** GET /pods answers a plain array (the spec's `Pods`); v1 has no pagination. */
export const PodListSchema = z.array(PodSchema);

const MICROS_DIGITS = 6;

/**
 * USD per hour (as RunPod sends it) to integer micro-dollars, rounding half up.
 * Works on the number's shortest decimal form (what the JSON said), not on binary float
 * arithmetic, so 0.745 stays 745000 and 0.0000005 becomes 1. Money is never float past here.
 */
export function costPerHrToMicros(n: number): bigint {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`costPerHr must be a finite non-negative number, got ${n}`);
  const [mantissa = "0", exponent = "0"] = String(n).split("e");
  const [whole = "0", fraction = ""] = mantissa.split(".");
  const digits = whole + fraction;
  const point = whole.length + Number(exponent) + MICROS_DIGITS;
  if (point < 0) return 0n;
  const kept = point >= digits.length ? digits.padEnd(point, "0") : digits.slice(0, point);
  const next = Number(digits[point] ?? "0");
  return BigInt(kept === "" ? "0" : kept) + (next >= 5 ? 1n : 0n);
}
