/**
 * Validation of POST /pods bodies against openapi-v1.json's PodCreateInput, written out by hand
 * (no schema library). Fields the spec does not list are rejected, as are wrong types, enum
 * values RunPod does not know (e.g. a made-up GPU type id) and out-of-range numbers.
 */
import { isRecord } from "./config";
import { GPU_TYPES, type CloudType } from "./prices";

export interface PodInput {
  name: string;
  imageName: string;
  computeType: "GPU" | "CPU";
  cloudType: CloudType;
  gpuTypeIds: string[];
  gpuTypePriority: "availability" | "custom";
  gpuCount: number;
  vcpuCount: number;
  containerDiskInGb: number;
  volumeInGb: number;
  volumeMountPath: string;
  env: Record<string, string>;
  dockerEntrypoint: string[];
  dockerStartCmd: string[];
  ports: string[];
  interruptible: boolean;
  locked: boolean;
  dataCenterIds: string[];
  templateId?: string;
  networkVolumeId?: string;
}

type Check = (value: unknown) => string | null;

const DATA_CENTERS = ["EU-RO-1", "CA-MTL-1", "EU-SE-1", "US-IL-1", "EUR-IS-1", "EU-CZ-1", "US-TX-3", "EUR-IS-2", "US-KS-2", "US-GA-2", "US-WA-1", "US-TX-1", "CA-MTL-3", "EU-NL-1", "US-TX-4", "US-CA-2", "US-NC-1", "OC-AU-1", "US-DE-1", "EUR-IS-3", "CA-MTL-2", "AP-JP-1", "EUR-NO-1", "EU-FR-1", "US-KS-3", "US-GA-1"];
const CUDA = ["13.0", "12.9", "12.8", "12.7", "12.6", "12.5", "12.4", "12.3", "12.2", "12.1", "12.0", "11.8"];
const CPU_FLAVORS = ["cpu3c", "cpu3g", "cpu3m", "cpu5c", "cpu5g", "cpu5m"];
const PRIORITY = ["availability", "custom"];

const str = (max?: number): Check => (v) =>
  typeof v !== "string" ? "must be a string" : max !== undefined && v.length > max ? `must be at most ${max} characters` : null;
const oneOf = (values: readonly string[]): Check => (v) =>
  typeof v === "string" && values.includes(v) ? null : `must be one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;
const bool: Check = (v) => (typeof v === "boolean" ? null : "must be a boolean");
const num: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? null : "must be a number");
const int = (min: number, nullable = false): Check => (v) =>
  nullable && v === null ? null : typeof v === "number" && Number.isInteger(v) && v >= min ? null : `must be an integer >= ${min}`;
const arrayOf = (item: Check): Check => (v) => {
  if (!Array.isArray(v)) return "must be an array";
  for (const [i, x] of v.entries()) {
    const problem = item(x);
    if (problem !== null) return `[${i}] ${problem}`;
  }
  return null;
};
const stringMap: Check = (v) => {
  if (!isRecord(v)) return "must be an object of string values";
  const bad = Object.entries(v).find(([, x]) => typeof x !== "string");
  return bad === undefined ? null : `.${bad[0]} must be a string`;
};
const port: Check = (v) => (typeof v === "string" && /^\d{1,5}\/(http|tcp|udp)$/.test(v) ? null : "must look like 8888/http or 22/tcp");

const FIELDS: Record<string, Check> = {
  allowedCudaVersions: arrayOf(oneOf(CUDA)),
  cloudType: oneOf(["SECURE", "COMMUNITY"]),
  computeType: oneOf(["GPU", "CPU"]),
  containerDiskInGb: int(0, true),
  containerRegistryAuthId: str(),
  countryCodes: arrayOf(str()),
  cpuFlavorIds: arrayOf(oneOf(CPU_FLAVORS)),
  cpuFlavorPriority: oneOf(PRIORITY),
  dataCenterIds: arrayOf(oneOf(DATA_CENTERS)),
  dataCenterPriority: oneOf(PRIORITY),
  dockerEntrypoint: arrayOf(str()),
  dockerStartCmd: arrayOf(str()),
  env: stringMap,
  globalNetworking: bool,
  gpuCount: int(1),
  gpuTypeIds: arrayOf(oneOf([...GPU_TYPES.keys()])),
  gpuTypePriority: oneOf(PRIORITY),
  imageName: str(),
  interruptible: bool,
  locked: bool,
  minDiskBandwidthMBps: num,
  minDownloadMbps: num,
  minRAMPerGPU: int(0),
  minUploadMbps: num,
  minVCPUPerGPU: int(0),
  name: str(191),
  networkVolumeId: str(),
  ports: arrayOf(port),
  supportPublicIp: bool,
  templateId: str(),
  vcpuCount: int(1),
  volumeInGb: int(0, true),
  volumeMountPath: str(),
};

export type ParseResult = { ok: true; input: PodInput } | { ok: false; problems: string[] };

export function parsePodInput(body: unknown): ParseResult {
  if (!isRecord(body)) return { ok: false, problems: ["request body must be a JSON object"] };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    const check = FIELDS[key];
    if (check === undefined) problems.push(`${key}: unknown field`);
    else if (value !== undefined) {
      const problem = check(value);
      if (problem !== null) problems.push(`${key}${problem.startsWith("[") || problem.startsWith(".") ? "" : ": "}${problem}`);
    }
  }
  const b = body as Partial<Record<keyof PodInput, unknown>> & Record<string, unknown>;
  const computeType = (b.computeType ?? "GPU") as PodInput["computeType"];
  const imageName = typeof b.imageName === "string" ? b.imageName.trim() : "";
  if (imageName === "" && b.templateId === undefined) problems.push("imageName: required (or templateId)");
  const gpuTypeIds = (b.gpuTypeIds ?? []) as string[];
  if (computeType === "GPU" && Array.isArray(gpuTypeIds) && gpuTypeIds.length === 0) problems.push("gpuTypeIds: at least one GPU type is required for a GPU pod");
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    input: {
      name: (b.name as string | undefined) ?? "my pod",
      imageName: imageName === "" ? `template:${String(b.templateId)}` : imageName,
      computeType,
      cloudType: (b.cloudType ?? "SECURE") as CloudType,
      gpuTypeIds: computeType === "GPU" ? gpuTypeIds : [],
      gpuTypePriority: (b.gpuTypePriority ?? "availability") as PodInput["gpuTypePriority"],
      gpuCount: computeType === "GPU" ? ((b.gpuCount as number | undefined) ?? 1) : 0,
      vcpuCount: (b.vcpuCount as number | undefined) ?? 2,
      containerDiskInGb: (b.containerDiskInGb as number | null | undefined) ?? 50,
      volumeInGb: (b.volumeInGb as number | null | undefined) ?? 20,
      volumeMountPath: (b.volumeMountPath as string | undefined) ?? "/workspace",
      env: (b.env as Record<string, string> | undefined) ?? {},
      dockerEntrypoint: (b.dockerEntrypoint as string[] | undefined) ?? [],
      dockerStartCmd: (b.dockerStartCmd as string[] | undefined) ?? [],
      ports: (b.ports as string[] | undefined) ?? ["8888/http", "22/tcp"],
      interruptible: (b.interruptible as boolean | undefined) ?? false,
      locked: (b.locked as boolean | undefined) ?? false,
      dataCenterIds: (b.dataCenterIds as string[] | undefined) ?? ["EU-RO-1"],
      templateId: b.templateId as string | undefined,
      networkVolumeId: b.networkVolumeId as string | undefined,
    },
  };
}
