import { z } from "zod";

/**
 * Shapes of RunPod REST API v2 (`shared/runpod/openapi-v2.json`: CreatePodRequest, Pod,
 * ListPodsResponse, GpuType, PodBillingRecord). Requests are strict, so a misspelt field fails here
 * instead of at RunPod (a 422). Responses require what trainpod depends on and let every other
 * field through untouched (`looseObject`), so a new RunPod field never breaks us.
 */

export const POD_STATUSES = ["PROVISIONING", "STARTING", "RUNNING", "EXITED", "ERROR", "TERMINATED"] as const;
export const PodStatusSchema = z.enum(POD_STATUSES);
export type PodStatus = z.infer<typeof PodStatusSchema>;
/** A status value RunPod added after our spec copy: read as "unknown", on which nothing is decided. */
export const UNKNOWN_POD_STATUS = "unknown";
const podStatus = z.union([PodStatusSchema, z.string().transform((): typeof UNKNOWN_POD_STATUS => UNKNOWN_POD_STATUS)]);

export const CLOUDS = ["SECURE", "COMMUNITY"] as const;
const stringList = z.array(z.string());

/** CreatePodRequest, the fields trainpod sends: one GPU type per create (v2 never falls back). */
export const CreatePodRequestSchema = z.strictObject({
  name: z.string().min(1).max(191),
  image: z.string().min(1),
  gpu: z.strictObject({
    id: z.string().min(1),
    count: z.number().int().min(1),
    allowedCudaVersions: z.array(z.string().regex(/^\d+\.\d+$/)).optional(),
  }),
  cloud: z.enum(CLOUDS).optional(),
  disk: z.number().int().min(1).optional(),
  /** at most one of them (RunPod answers 400 for both); a network volume only in its data centre, on Secure Cloud */
  mounts: z
    .strictObject({
      persistent: z.strictObject({ size: z.number().int().min(10), path: z.string().min(1) }).optional(),
      network: z
        .array(z.strictObject({ volumeId: z.string().min(1), path: z.string().min(1) }))
        .max(1)
        .optional(),
    })
    .refine(
      (m) => m.persistent === undefined || m.network === undefined,
      "persistent and network mounts exclude each other",
    )
    .optional(),
  env: z.record(z.string(), z.string()).optional(),
  ports: stringList.optional(),
  /** the start command: "arguments passed to the container entrypoint" (GraphQL's dockerArgs) */
  args: z.string().optional(),
  dataCenterIds: stringList.optional(),
});
export type CreatePodRequest = z.infer<typeof CreatePodRequestSchema>;

/** USD per hour: a JSON number (0.0 when EXITED or TERMINATED). */
const usdPerHour = z.number().finite().nonnegative();
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an RFC 3339 date-time");

/** A GPU pod's `gpu`: a `count` left out reads as one GPU (a create places at least one). */
const podGpu = z.looseObject({
  id: z.string(),
  count: z
    .number()
    .int()
    .nullish()
    .transform((n) => n ?? 1),
});

export const PodSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  status: podStatus,
  cost: usdPerHour,
  image: z.string().nullish(),
  gpu: podGpu.nullish(),
  dataCenterId: z.string().nullish(),
  env: z.record(z.string(), z.string()).nullish(),
  runtime: z.looseObject({ uptime: z.number().nonnegative().nullish() }).nullish(),
  createdAt: isoDate,
  startedAt: isoDate.nullish(),
});
export type Pod = z.infer<typeof PodSchema>;

/**
 * GET /v2/pods answers `{"pods": [...]}` (no name filter, no paging in our spec copy). Each pod is read on its own
 * (pod-list.ts: one it cannot read is skipped, not a failed listing); `nextCursor`, if a later RunPod pages the
 * list, is followed.
 */
export const PodListSchema = z.looseObject({ pods: z.array(z.unknown()), nextCursor: z.string().nullish() });

export const AVAILABILITY_LEVELS = ["NONE", "LOW", "MEDIUM", "HIGH"] as const;
export type Availability = (typeof AVAILABILITY_LEVELS)[number];

/** A GpuType of GET /v2/catalog/gpus?include=AVAILABILITY&product=POD: list price per GPU and stock. */
export const GpuTypeSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  memory: z.number().nullish(),
  price: z.looseObject({ secure: usdPerHour, community: usdPerHour }),
  availability: z.enum(AVAILABILITY_LEVELS).optional(),
  dataCenters: z.array(z.looseObject({ id: z.string(), availability: z.enum(AVAILABILITY_LEVELS) })).optional(),
});
export type GpuType = z.infer<typeof GpuTypeSchema>;
export const GpuTypeListSchema = z.looseObject({ gpus: z.array(GpuTypeSchema) });

const amount = z.number().finite();
/** One bucket of GET /v2/billing/pods: RunPod's own bill, in USD. */
export const PodBillingRecordSchema = z.looseObject({
  podId: z.string(),
  startTime: isoDate,
  endTime: isoDate,
  totalAmount: amount,
  gpuAmount: amount,
  cpuAmount: amount,
  diskAmount: amount,
});
export type PodBillingRecord = z.infer<typeof PodBillingRecordSchema>;
export const PodBillingListSchema = z.looseObject({ records: z.array(PodBillingRecordSchema) });

/** The `data:` of one event of GET /v2/pods/{id}/logs. */
export const PodLogLineSchema = z.looseObject({
  ts: z.string(),
  source: z.enum(["container", "system"]),
  line: z.string(),
});
export type PodLogLine = z.infer<typeof PodLogLineSchema> & { id?: string };

const MICROS_DIGITS = 6;

/**
 * USD (per hour, or an amount, as RunPod sends it) to integer micro-dollars, rounding half up.
 * Works on the number's shortest decimal form (what the JSON said), not on binary float
 * arithmetic, so 0.745 stays 745000 and 0.0000005 becomes 1. Money is never float past here.
 */
export function usdToMicrosExact(n: number): bigint {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`a USD amount must be a finite non-negative number, got ${n}`);
  const [mantissa = "0", exponent = "0"] = String(n).split("e");
  const [whole = "0", fraction = ""] = mantissa.split(".");
  const digits = whole + fraction;
  const point = whole.length + Number(exponent) + MICROS_DIGITS;
  if (point < 0) return 0n;
  const kept = point >= digits.length ? digits.padEnd(point, "0") : digits.slice(0, point);
  const next = Number(digits[point] ?? "0");
  return BigInt(kept === "" ? "0" : kept) + (next >= 5 ? 1n : 0n);
}

/** RunPod's `cost` (USD per hour) in micro-dollars per hour. */
export const costPerHrToMicros = usdToMicrosExact;
