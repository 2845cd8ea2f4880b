/**
 * Validation of POST /v2/pods bodies against openapi-v2.json's CreatePodRequest, by hand (the sim
 * never reads the spec). Two kinds of answer, as createPod's description tables them:
 * - 422 + `errors`: the body breaks the schema (unknown field, wrong type, missing name/image,
 *   bad enum or pattern) — collected all at once;
 * - 400: schema-valid but rejected by a handler rule (gpu/cpu both or neither, CPU pods and
 *   templates unsupported by the sim, allowedCudaVersions with minCudaVersion, persistent and
 *   network mounts together, an unparseable `args`). Placement (GPU type, capacity, data
 *   centre, CUDA) is decided later, in pods.ts.
 */
import { ArgsError, parseArgs } from "./args";
import { isRecord } from "./config";
import type { CloudType } from "./prices";

export interface PodInput {
  name: string;
  image: string;
  args: string;
  /** argv parsed from args */
  command: string[];
  gpuTypeId: string;
  gpuCount: number;
  allowedCudaVersions: string[];
  minCudaVersion?: string;
  cloud: CloudType;
  disk: number;
  mounts: { persistent?: { size: number; path: string }; network?: Array<{ volumeId: string; path: string }> };
  env: Record<string, string>;
  ports: string[];
  registry: string | null;
  dataCenterIds: string[];
  globalNetworking: boolean;
  startSsh: boolean;
  startJupyter: boolean;
}

type Check = (value: unknown, at: string, errors: string[]) => void;

const CUDA = /^\d+\.\d+$/;
const str =
  (minLength = 0): Check =>
  (v, at, errors) => {
    if (typeof v !== "string") errors.push(`${at}: must be a string`);
    else if (v.length < minLength) errors.push(`${at}: must not be empty`);
  };
const nullableStr: Check = (v, at, errors) => (v === null ? undefined : str()(v, at, errors));
const bool: Check = (v, at, errors) => void (typeof v !== "boolean" && errors.push(`${at}: must be a boolean`));
const int =
  (min: number): Check =>
  (v, at, errors) =>
    void (
      (typeof v !== "number" || !Number.isInteger(v) || v < min) &&
      errors.push(`${at}: must be an integer >= ${min}`)
    );
const oneOf =
  (values: readonly string[]): Check =>
  (v, at, errors) =>
    void ((typeof v !== "string" || !values.includes(v)) && errors.push(`${at}: must be one of ${values.join(", ")}`));
const pattern =
  (re: RegExp, what: string): Check =>
  (v, at, errors) =>
    void ((typeof v !== "string" || !re.test(v)) && errors.push(`${at}: must be ${what}`));
const arrayOf =
  (item: Check, maxItems?: number): Check =>
  (v, at, errors) => {
    if (!Array.isArray(v)) return void errors.push(`${at}: must be an array`);
    if (maxItems !== undefined && v.length > maxItems) errors.push(`${at}: must have at most ${maxItems} item(s)`);
    v.forEach((x, i) => item(x, `${at}[${i}]`, errors));
  };
const stringMap: Check = (v, at, errors) => {
  if (!isRecord(v)) return void errors.push(`${at}: must be an object of string values`);
  for (const [k, x] of Object.entries(v)) if (typeof x !== "string") errors.push(`${at}.${k}: must be a string`);
};
const object =
  (fields: Record<string, Check>, required: string[] = []): Check =>
  (v, at, errors) => {
    if (!isRecord(v)) return void errors.push(`${at}: must be an object`);
    for (const key of required) if (!(key in v)) errors.push(`${at}.${key}: is required`);
    for (const [key, value] of Object.entries(v)) {
      const check = fields[key];
      if (check === undefined) errors.push(`${at}.${key}: unknown field`);
      else check(value, `${at}.${key}`, errors);
    }
  };

const FIELDS: Record<string, Check> = {
  name: str(1),
  image: str(),
  args: str(),
  disk: int(1),
  env: stringMap,
  ports: arrayOf(str()),
  registry: nullableStr,
  cloud: oneOf(["SECURE", "COMMUNITY"]),
  cpu: object({ id: str(1), vcpuCount: int(2) }, ["id", "vcpuCount"]),
  gpu: object(
    {
      id: str(),
      count: int(1),
      allowedCudaVersions: arrayOf(pattern(CUDA, "a major.minor CUDA version")),
      minCudaVersion: pattern(CUDA, "a major.minor CUDA version"),
    },
    ["id"],
  ),
  dataCenterIds: arrayOf(str()),
  globalNetworking: bool,
  mounts: object({
    persistent: object({ size: int(10), path: str() }, ["size", "path"]),
    network: arrayOf(object({ volumeId: str(), path: str() }, ["volumeId", "path"]), 1),
  }),
  startSsh: bool,
  startJupyter: bool,
  templateId: str(1),
};

export type ParseResult =
  | { ok: true; input: PodInput }
  | { ok: false; status: 422; errors: string[] }
  | { ok: false; status: 400; detail: string };

export function parsePodInput(body: unknown): ParseResult {
  if (!isRecord(body)) return { ok: false, status: 422, errors: ["body: must be a JSON object"] };
  const errors: string[] = [];
  if (!("name" in body)) errors.push("name: is required");
  if (!("image" in body) && !("templateId" in body)) errors.push("image: is required (unless templateId is set)");
  for (const [key, value] of Object.entries(body)) {
    const check = FIELDS[key];
    if (check === undefined) errors.push(`${key}: unknown field`);
    else check(value, key, errors);
  }
  if (errors.length > 0) return { ok: false, status: 422, errors };
  const bad = (detail: string): ParseResult => ({ ok: false, status: 400, detail });
  const b = body as Record<string, unknown>;
  if (b.gpu !== undefined && b.cpu !== undefined) return bad("exactly one of gpu or cpu must be set, not both");
  if (b.templateId !== undefined)
    return bad("templates are not supported by the simulator: send image (and args) instead of templateId");
  if (b.cpu !== undefined) return bad("CPU pods are not supported by the simulator");
  if (b.gpu === undefined) return bad("exactly one of gpu or cpu must be set");
  const gpu = b.gpu as { id: string; count?: number; allowedCudaVersions?: string[]; minCudaVersion?: string };
  if ((gpu.allowedCudaVersions ?? []).length > 0 && gpu.minCudaVersion !== undefined)
    return bad("gpu.allowedCudaVersions and gpu.minCudaVersion are mutually exclusive");
  const mounts = (b.mounts ?? {}) as PodInput["mounts"];
  if (mounts.persistent !== undefined && mounts.network !== undefined)
    return bad("mounts.persistent and mounts.network are mutually exclusive");
  const image = (b.image as string).trim();
  if (image === "") return bad("image must not be empty");
  const ports = (b.ports as string[] | undefined) ?? [];
  const badPort = ports.find((p) => !/^\d{1,5}\/(http|tcp|udp)$/.test(p));
  if (badPort !== undefined) return bad(`ports: "${badPort}" is not port/protocol (e.g. 8888/http, 22/tcp)`);
  const args = (b.args as string | undefined) ?? "";
  let command: string[];
  try {
    command = parseArgs(args);
  } catch (err) {
    if (err instanceof ArgsError) return bad(err.message);
    throw err;
  }
  return {
    ok: true,
    input: {
      name: b.name as string,
      image,
      args,
      command,
      gpuTypeId: gpu.id,
      gpuCount: gpu.count ?? 1,
      allowedCudaVersions: gpu.allowedCudaVersions ?? [],
      minCudaVersion: gpu.minCudaVersion,
      cloud: (b.cloud ?? "SECURE") as CloudType,
      disk: (b.disk as number | undefined) ?? 50,
      mounts,
      env: { ...((b.env as Record<string, string> | undefined) ?? {}) },
      ports,
      registry: (b.registry as string | null | undefined) ?? null,
      dataCenterIds: (b.dataCenterIds as string[] | undefined) ?? [],
      globalNetworking: (b.globalNetworking as boolean | undefined) ?? false,
      startSsh: (b.startSsh as boolean | undefined) ?? false,
      startJupyter: (b.startJupyter as boolean | undefined) ?? false,
    },
  };
}
