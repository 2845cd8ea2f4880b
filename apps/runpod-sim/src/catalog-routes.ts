/**
 * GET /v2/catalog/gpus and /v2/catalog/gpus/{id}: the price table as GpuType objects, and with
 * include=AVAILABILITY&product=POD the stock from the sim's capacity (free GPUs: 0 NONE, 1-2 LOW,
 * 3-9 MEDIUM, 10+ or unlimited HIGH) — unless admin config `catalogAvailability` pins a level for
 * a type, as RunPod's catalog can be stale. Every type is offered in every sim data centre from
 * one pool, so each listed data centre shows the type's overall level.
 */
import type { AvailabilityLevel } from "./config";
import { DATA_CENTERS, HOST_CUDA_VERSION, cudaAtLeast } from "./data-centers";
import { sendError, sendJson } from "./http-util";
import { GPU_TYPES, maxGpuCount, type GpuType } from "./prices";
import type { RouteCall, V2Route } from "./routes";

interface CatalogQuery {
  availability: boolean;
  pod: boolean;
  count: number;
  cloud: "SECURE" | "COMMUNITY";
  countryCodes?: string[];
  cudaVersions?: string[];
  minCudaVersion?: string;
}

const list = (query: URLSearchParams, name: string): string[] | undefined => {
  const all = query.getAll(name);
  return all.length === 0
    ? undefined
    : all
        .flatMap((v) => v.split(","))
        .map((v) => v.trim())
        .filter((v) => v !== "");
};

/** The parsed query, or an answer already sent (422 for a malformed value, 400 for a rule). */
function parseQuery({ res, query }: RouteCall): CatalogQuery | undefined {
  const errors: string[] = [];
  const include = list(query, "include");
  const product = list(query, "product");
  if (include !== undefined && (include.length > 1 || include.some((v) => v !== "AVAILABILITY")))
    errors.push("include: must be AVAILABILITY");
  if (product?.some((v) => !["POD", "CLUSTER", "SERVERLESS"].includes(v)))
    errors.push("product: each must be POD, CLUSTER or SERVERLESS");
  const countRaw = query.get("count");
  if (countRaw !== null && !/^[1-9]\d*$/.test(countRaw)) errors.push("count: must be an integer >= 1");
  const cloud = query.get("cloud");
  if (cloud !== null && cloud !== "SECURE" && cloud !== "COMMUNITY") errors.push("cloud: must be SECURE or COMMUNITY");
  const countryCodes = list(query, "countryCodes");
  if (countryCodes?.some((c) => !/^[A-Z]{2}$/.test(c)))
    errors.push("countryCodes: each must be an uppercase ISO 3166-1 alpha-2 code");
  const cudaVersions = list(query, "cudaVersions");
  if (cudaVersions?.some((v) => !/^\d+\.\d+$/.test(v))) errors.push("cudaVersions: each must be major.minor");
  const minCuda = query.get("minCudaVersion");
  if (minCuda !== null && !/^\d+(\.\d+)?$/.test(minCuda)) errors.push("minCudaVersion: must be major or major.minor");
  if (errors.length > 0) return void sendError(res, 422, "Request validation failed.", {}, errors);
  const wantsAvailability = include !== undefined && include.length > 0;
  if (wantsAvailability && (product === undefined || product.length === 0))
    return void sendError(res, 400, "include=AVAILABILITY requires product (POD, CLUSTER or SERVERLESS)");
  if (!wantsAvailability) {
    const stray = ["product", "count", "cloud", "countryCodes", "cudaVersions", "minCudaVersion"].filter((name) =>
      query.has(name),
    );
    if (stray.length > 0)
      return void sendError(
        res,
        400,
        `${stray.join(", ")} ${stray.length === 1 ? "is" : "are"} valid only with include=AVAILABILITY`,
      );
  }
  if (cudaVersions !== undefined && minCuda !== null)
    return void sendError(res, 400, "cudaVersions and minCudaVersion are mutually exclusive");
  return {
    availability: wantsAvailability,
    pod: product?.includes("POD") ?? false,
    count: countRaw === null ? 1 : Number(countRaw),
    cloud: (cloud ?? "SECURE") as CatalogQuery["cloud"],
    countryCodes,
    cudaVersions,
    minCudaVersion: minCuda ?? undefined,
  };
}

export function levelFor(free: number): AvailabilityLevel {
  if (free >= 10) return "HIGH";
  if (free >= 3) return "MEDIUM";
  if (free >= 1) return "LOW";
  return "NONE";
}

function view(call: RouteCall, type: GpuType, q: CatalogQuery): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {
    id: type.id,
    name: type.displayName,
    pool: null,
    manufacturer: type.id.startsWith("AMD") ? "AMD" : "NVIDIA",
    memory: type.memoryInGb,
    secure: true,
    community: type.communityPrice > 0,
    price: { secure: type.securePrice, community: type.communityPrice },
    maxCount: { secure: maxGpuCount(type, "SECURE"), community: maxGpuCount(type, "COMMUNITY") },
  };
  if (!q.availability) return out;
  const dcs = DATA_CENTERS.filter((dc) => q.countryCodes === undefined || q.countryCodes.includes(dc.countryCode));
  const cudaOk =
    q.cudaVersions !== undefined
      ? q.cudaVersions.includes(HOST_CUDA_VERSION)
      : q.minCudaVersion === undefined ||
        cudaAtLeast(HOST_CUDA_VERSION, q.minCudaVersion.includes(".") ? q.minCudaVersion : `${q.minCudaVersion}.0`);
  const free = call.sim.pods.capacity.free(type.id);
  const real =
    !q.pod || !cudaOk || dcs.length === 0 || maxGpuCount(type, q.cloud) < q.count || free < q.count
      ? "NONE"
      : levelFor(free);
  const level = call.sim.config().catalogAvailability[type.id] ?? real;
  out.availability = level;
  if (level !== "NONE" && dcs.length > 0)
    out.dataCenters = dcs.map((dc) => ({ id: dc.id, name: dc.name, availability: level }));
  if (q.cudaVersions === undefined || q.cudaVersions.includes(HOST_CUDA_VERSION))
    out.cudaVersions = [{ version: HOST_CUDA_VERSION, available: level !== "NONE" }];
  else out.cudaVersions = [];
  // the list drops a type with no data centre in the asked countries
  if (dcs.length === 0 && q.countryCodes !== undefined) out.dropFromList = true;
  return out;
}

function listGpus(call: RouteCall): void {
  const q = parseQuery(call);
  if (q === undefined) return;
  const gpus = [...GPU_TYPES.values()]
    .map((t) => view(call, t, q))
    .filter((g): g is Record<string, unknown> => g !== undefined && g.dropFromList !== true);
  sendJson(call.res, 200, { gpus });
}

function getGpu(call: RouteCall): void {
  const type = GPU_TYPES.get(call.params.id ?? "");
  if (type === undefined) return sendError(call.res, 404, `GPU type "${call.params.id ?? ""}" does not exist`);
  const q = parseQuery(call);
  if (q === undefined) return;
  const { dropFromList: _drop, ...gpu } = view(call, type, q) ?? {};
  sendJson(call.res, 200, gpu);
}

export const CATALOG_ROUTES: readonly V2Route[] = [
  { method: "GET", template: "/v2/catalog/gpus", handler: listGpus },
  { method: "GET", template: "/v2/catalog/gpus/{id}", handler: getGpu },
];
