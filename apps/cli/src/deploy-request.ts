import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { Json } from "./api-client";
import { CliError, EXIT } from "./exit-codes";

/** `deploy`'s options as commander hands them over. */
export interface DeployFlags {
  file?: string;
  dataset?: string;
  model?: string;
  gpu?: string[];
  gpuCount?: string;
  cloud?: string;
  image?: string;
  maxRuntime?: string;
  maxCost?: string;
  setupTimeout?: string;
  hp?: string[];
  expectedRuntime?: string;
}

/** A deployment request from a JSON or YAML file (YAML is a superset of JSON). */
export function readRequestFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.USAGE);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new CliError(`${file} is neither JSON nor YAML: ${(err as Error).message}`, EXIT.USAGE);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new CliError(`${file} must hold an object (the deployment request)`, EXIT.USAGE);
  return value as Json;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`${flag} must be a whole number, got ${JSON.stringify(v)}`, EXIT.USAGE);
  return Number(v);
}

/** `key=value`: numbers, true/false and null become JSON values; anything else stays a string. */
export function parseHyperparameter(pair: string): [string, string | number | boolean | null] {
  const eq = pair.indexOf("=");
  if (eq <= 0) throw new CliError(`--hp takes key=value, got ${JSON.stringify(pair)}`, EXIT.USAGE);
  const key = pair.slice(0, eq);
  const raw = pair.slice(eq + 1);
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw)) return [key, Number(raw)];
  if (raw === "true" || raw === "false") return [key, raw === "true"];
  if (raw === "null") return [key, null];
  return [key, raw];
}

/**
 * The deployment request: the file (if any), overridden field by field by the flags. Also
 * returns the expected runtime, which only the estimate takes.
 */
export function buildDeployRequest(flags: DeployFlags): { request: Json; expectedRuntimeMinutes?: number } {
  const request: Json = flags.file ? readRequestFile(flags.file) : {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) request[key] = value;
  };
  set("datasetId", flags.dataset);
  set("baseModel", flags.model);
  if (flags.gpu && flags.gpu.length > 0) request.gpuTypeIds = flags.gpu;
  set("gpuCount", int("--gpu-count", flags.gpuCount));
  set("cloudType", flags.cloud?.toUpperCase());
  set("image", flags.image);
  set("maxRuntimeMinutes", int("--max-runtime", flags.maxRuntime));
  set("maxCostUsd", flags.maxCost);
  set("setupTimeoutMinutes", int("--setup-timeout", flags.setupTimeout));
  if (flags.hp && flags.hp.length > 0)
    request.hyperparameters = {
      ...(request.hyperparameters as Json | undefined),
      ...Object.fromEntries(flags.hp.map(parseHyperparameter)),
    };
  const fromFile = request.expectedRuntimeMinutes as number | undefined;
  delete request.expectedRuntimeMinutes;
  const expected = int("--expected-runtime", flags.expectedRuntime) ?? fromFile;
  for (const [key, flag] of [
    ["datasetId", "--dataset"],
    ["baseModel", "--model"],
    ["gpuTypeIds", "--gpu"],
  ] as const) {
    if (request[key] === undefined)
      throw new CliError(`${key} is required: give ${flag} or put it in --file`, EXIT.USAGE);
  }
  return expected === undefined ? { request } : { request, expectedRuntimeMinutes: expected };
}
