// Loads Prisma's WebAssembly schema engine (the same engine `prisma migrate` runs natively)
// from prisma's own `schema_engine_bg.wasm` plus the wasm-bindgen glue of @prisma/schema-engine-wasm.
import { readFileSync } from "node:fs";
import path from "node:path";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm" with { "resolution-mode": "import" };

export type { SchemaEngine };

interface EngineExports {
  __wbindgen_start(): void;
}

interface Glue {
  SchemaEngine: typeof SchemaEngine;
  __wbg_set_wasm(exports: EngineExports): void;
}

// The project's lib (ES2023, no DOM) has no WebAssembly typings; only this much is used.
type WasmModule = object;
interface WasmApi {
  Module: { new (bytes: Uint8Array): WasmModule; imports(module: WasmModule): { module: string; name: string }[] };
  Instance: new (module: WasmModule, imports: Record<string, Glue>) => { exports: EngineExports };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const GLUE_MODULE = "./schema_engine_bg.js";

function wasmPath(): string {
  return path.join(path.dirname(require.resolve("prisma/package.json")), "build", "schema_engine_bg.wasm");
}

/**
 * The engine races queries against timers (e.g. its 10 s advisory-lock timeout) and never clears
 * them; left referenced, they keep Node alive for seconds after the work is done.
 */
const unrefTimeout = ((callback: () => void, ms?: number) => setTimeout(callback, ms).unref()) as typeof setTimeout;

/**
 * The glue is an ES module. Jest's CommonJS runtime cannot require it, and loading it through
 * Node's own loader would put it in another realm (its `instanceof Promise` checks would then
 * fail on our adapter's promises), so it is evaluated here, in the caller's realm. It only has
 * top-level `export function`/`export class` declarations and no imports; anything else is refused.
 */
function evaluateGlue(source: string): Glue {
  const names: string[] = [];
  const body = source.replace(/^export (function|class) ([\w$]+)/gm, (_m, kind: string, name: string) => {
    names.push(name);
    return `${kind} ${name}`;
  });
  if (/^\s*(export|import)\b/m.test(body)) {
    throw new Error("schema engine glue has an unexpected export/import form; check @prisma/schema-engine-wasm");
  }
  const factory = new Function("setTimeout", `"use strict";\n${body}\nreturn { ${names.join(", ")} };`) as (
    timeout: typeof setTimeout,
  ) => Glue;
  return factory(unrefTimeout);
}

function checkImports(module: WasmModule, glue: Glue): void {
  const missing = wasmApi.Module.imports(module).filter((imp) => !(imp.name in glue));
  if (missing.length > 0) {
    throw new Error(
      `@prisma/schema-engine-wasm's glue does not match prisma's schema_engine_bg.wasm ` +
        `(missing ${missing.map((m) => m.name).join(", ")}); install the version built for this prisma`,
    );
  }
}

function instantiate(): Glue {
  const glue = evaluateGlue(readFileSync(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"), "utf8"));
  const module = new wasmApi.Module(readFileSync(wasmPath()));
  checkImports(module, glue);
  const { exports } = new wasmApi.Instance(module, { [GLUE_MODULE]: glue });
  glue.__wbg_set_wasm(exports);
  exports.__wbindgen_start();
  return glue;
}

let loaded: Glue | undefined;
let lastPanic: string | undefined;

interface PanicRegistry {
  set_message(message: string): void;
}

// The engine reports Rust panics here; without it a panic is a bare `RuntimeError: unreachable`.
function installPanicRegistry(): void {
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: PanicRegistry };
  g.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (message) => void (lastPanic = message) };
}

interface EngineFailure {
  message: string;
}

function isEngineFailure(value: unknown): value is EngineFailure {
  return typeof value === "object" && value !== null && typeof (value as EngineFailure).message === "string";
}

/** Engine rejections as Errors; after a panic the wasm instance is unusable, so it is dropped. */
export function engineError(e: unknown): Error {
  if (e instanceof Error && e.name === "RuntimeError") {
    loaded = undefined;
    return new Error(`schema engine panicked: ${lastPanic ?? e.message}`, { cause: e });
  }
  if (e instanceof Error) return e;
  if (isEngineFailure(e)) return new Error(e.message);
  return new Error(typeof e === "string" ? e : `schema engine failed: ${JSON.stringify(e)}`);
}

export interface EngineOptions {
  schemaPath: string;
  factory: SqlMigrationAwareDriverAdapterFactory;
  onLog?: (line: string) => void;
}

export async function createSchemaEngine(opts: EngineOptions): Promise<SchemaEngine> {
  installPanicRegistry();
  loaded ??= instantiate();
  const datamodels: [string, string][] = [[opts.schemaPath, readFileSync(opts.schemaPath, "utf8")]];
  const onLog = opts.onLog ?? (() => undefined);
  return loaded.SchemaEngine.new({ datamodels }, onLog, bindMigrationAwareSqlAdapterFactory(opts.factory));
}
