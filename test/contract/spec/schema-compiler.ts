import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { fullFormats } from "ajv-formats/dist/formats";
import type { JsonSchema, OpenApiDocument } from "./openapi-document";

/**
 * Compiles the spec's JSON Schemas (2020-12 dialect) with Ajv. The component schemas become the
 * `$defs` of one registered schema, so `#/components/schemas/X` is rewritten to `SPEC_SCHEMA_ID#/$defs/X`.
 *
 * Ajv stays in strict mode except for what the spec needs:
 * - `example` (OpenAPI's singular keyword) and every `x-*` extension found in the spec are
 *   registered as annotation-only keywords (strict mode would reject them as unknown);
 * - union types (`type: ["string","null"]`) are allowed (`allowUnionTypes`);
 * - `strictTypes` only logs (the spec puts `properties` next to `allOf` without `type: object`);
 *   those messages are collected in {@link SchemaCompiler.warnings};
 * - `discriminator` runs with Ajv's OpenAPI support, which rejects `mapping`: the mapping is
 *   checked to be exactly the one Ajv derives from the variants' `enum`/`const`, then dropped;
 * - formats come from ajv-formats (date-time, uri, float, double, ...); any other format the
 *   spec names is registered as a no-op and listed in {@link SchemaCompiler.noopFormats};
 * - `uri` accepts RFC 6570 template expressions (`.../status/{job_id}`): the spec's own examples
 *   of `format: uri` fields are such templates, which RFC 3986 forbids;
 * - Ajv 8.20 loses the properties evaluated by `allOf` when a sibling `if` fails and its `then`
 *   declares `properties` (every property then reads as unevaluated). A schema with both `if`
 *   and `unevaluatedProperties` gets its `if`/`then`/`else` moved into one more `allOf` entry,
 *   which is equivalent in 2020-12 and which Ajv evaluates correctly.
 * Each relaxation actually applied is listed in {@link SchemaCompiler.relaxations}.
 */

export const SPEC_SCHEMA_ID = "https://trainpod.invalid/runpod/openapi-v2.json";
const COMPONENT_PREFIX = "#/components/schemas/";

type SchemaObject = { [keyword: string]: unknown };

function isObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep copy with component refs pointed at the registered `$defs` document. */
export function rewriteRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (!isObject(schema)) return schema;
  const out: SchemaObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$ref" && typeof value === "string") {
      if (!value.startsWith(COMPONENT_PREFIX)) throw new Error(`schema $ref outside components/schemas: ${value}`);
      out[key] = `${SPEC_SCHEMA_ID}#/$defs/${value.slice(COMPONENT_PREFIX.length)}`;
    } else {
      out[key] = rewriteRefs(value);
    }
  }
  return out;
}

/** Every key starting with `x-` and every `format` value anywhere in the component schemas. */
function scan(node: unknown, extensions: Set<string>, formats: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) scan(item, extensions, formats);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-")) extensions.add(key);
    if (key === "format" && typeof value === "string") formats.add(value);
    scan(value, extensions, formats);
  }
}

/** `if`/`then`/`else` next to `unevaluatedProperties` moved into `allOf` (see the Ajv note above). */
function hoistConditionals(node: unknown, where: string, moved: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => hoistConditionals(item, `${where}/${i}`, moved));
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) hoistConditionals(value, `${where}/${key}`, moved);
  if (node.if === undefined || node.unevaluatedProperties === undefined) return;
  const conditional: SchemaObject = { if: node.if };
  if (node.then !== undefined) conditional.then = node.then;
  if (node.else !== undefined) conditional.else = node.else;
  delete node.if;
  delete node.then;
  delete node.else;
  node.allOf = [...(Array.isArray(node.allOf) ? node.allOf : []), conditional];
  moved.push(where);
}

/** ajv-formats' RFC 3986 check, after replacing RFC 6570 `{expressions}` with a plain character. */
function uriOrTemplate(value: string): boolean {
  const rfc3986 = fullFormats.uri;
  if (typeof rfc3986 !== "function") throw new Error("ajv-formats' uri format is not a function any more");
  return rfc3986(value.replace(/\{[^{}]*\}/g, "x")) === true;
}

/** Checks an OpenAPI discriminator mapping against the variants, then removes it (Ajv rejects `mapping`). */
function dropCheckedMappings(defs: Record<string, unknown>, problems: string[]): void {
  for (const [name, schema] of Object.entries(defs)) {
    if (!isObject(schema) || !isObject(schema.discriminator)) continue;
    const { propertyName, mapping } = schema.discriminator;
    if (!isObject(mapping) || typeof propertyName !== "string") continue;
    for (const [tag, target] of Object.entries(mapping)) {
      const variant = typeof target === "string" ? defs[target.replace(COMPONENT_PREFIX, "")] : undefined;
      const tagSchema =
        isObject(variant) && isObject(variant.properties) ? variant.properties[propertyName] : undefined;
      const allowed = isObject(tagSchema)
        ? (tagSchema.enum ?? (tagSchema.const === undefined ? [] : [tagSchema.const]))
        : [];
      if (!Array.isArray(allowed) || !allowed.includes(tag)) {
        problems.push(
          `${name}: discriminator mapping ${tag} -> ${String(target)} disagrees with the variant's ${propertyName}`,
        );
      }
    }
    const { mapping: _dropped, ...rest } = schema.discriminator;
    schema.discriminator = rest;
  }
}

/** `where /instance/path message: detail`; `rootLabel` stands in for an empty instance path. */
export function formatAjvError(where: string, error: ErrorObject, rootLabel = "(root)"): string {
  const at = error.instancePath === "" ? rootLabel : error.instancePath;
  const p = error.params as Record<string, unknown>;
  let detail = "";
  if (error.keyword === "additionalProperties") detail = `: '${String(p.additionalProperty)}'`;
  else if (error.keyword === "unevaluatedProperties") detail = `: '${String(p.unevaluatedProperty)}'`;
  else if (error.keyword === "enum") detail = `: ${JSON.stringify(p.allowedValues)}`;
  else if (error.keyword === "const") detail = `: ${JSON.stringify(p.allowedValue)}`;
  return `${where}${at === "" ? "" : ` ${at}`} ${error.message ?? error.keyword}${detail}`;
}

export class SchemaCompiler {
  /** strict-mode messages Ajv logged while compiling (strictTypes) */
  readonly warnings: string[] = [];
  /** formats the spec names that neither Ajv nor ajv-formats knows; registered as no-ops */
  readonly noopFormats: string[] = [];
  /** annotation-only keywords registered so strict mode accepts the spec */
  readonly annotationKeywords: string[];
  /** what was relaxed or rewritten so Ajv accepts (and correctly judges) the spec */
  readonly relaxations: string[] = [];
  /** inconsistencies found while preparing the spec (e.g. a discriminator mapping) */
  readonly specProblems: string[] = [];
  /** names of the component schemas, all compiled at construction */
  readonly componentNames: string[];
  private readonly strictAjv: Ajv2020;
  private readonly coercingAjv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    const extensions = new Set<string>();
    const formats = new Set<string>();
    scan(doc, extensions, formats);
    this.annotationKeywords = ["example", ...[...extensions].sort()];
    const defs = rewriteRefs(doc.components?.schemas ?? {}) as Record<string, unknown>;
    dropCheckedMappings(defs, this.specProblems);
    const moved: string[] = [];
    hoistConditionals(defs, "#/components/schemas", moved);
    for (const where of moved)
      this.relaxations.push(`${where}: if/then moved into allOf (Ajv unevaluatedProperties bug)`);
    if (formats.has("uri"))
      this.relaxations.push("format uri accepts RFC 6570 {expressions} (the spec's examples use them)");
    if (this.annotationKeywords.length > 0)
      this.relaxations.push(`annotation-only keywords: ${this.annotationKeywords.join(", ")}`);
    this.strictAjv = this.makeAjv(false, formats, defs);
    this.coercingAjv = this.makeAjv(true, formats, defs);
    this.componentNames = Object.keys(defs);
    for (const name of this.componentNames) this.component(name); // compile all now, so warnings are complete
  }

  private makeAjv(coerceTypes: boolean, formats: Set<string>, defs: Record<string, unknown>): Ajv2020 {
    const warn = (...args: unknown[]): void => {
      if (!coerceTypes) this.warnings.push(args.map(String).join(" "));
    };
    const ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      strictTypes: "log",
      strictTuples: "log",
      strictRequired: false,
      allowUnionTypes: true,
      discriminator: true,
      coerceTypes,
      logger: { log: () => undefined, warn, error: warn },
    });
    addFormats(ajv);
    ajv.addFormat("uri", uriOrTemplate);
    for (const keyword of this.annotationKeywords) ajv.addKeyword({ keyword });
    for (const format of formats) {
      if (ajv.formats[format] !== undefined) continue;
      ajv.addFormat(format, true);
      if (!coerceTypes) this.noopFormats.push(format);
    }
    ajv.addSchema({ $id: SPEC_SCHEMA_ID, $defs: defs });
    return ajv;
  }

  /**
   * A validator for a schema taken from the spec (inline or `$ref`). `coerce` wraps it in an
   * object so Ajv can coerce string data (query parameters, headers) to the declared types.
   */
  validator(schema: JsonSchema, coerce = false): ValidateFunction {
    const key = `${coerce ? "c" : "s"}:${JSON.stringify(schema)}`;
    let fn = this.cache.get(key);
    if (fn === undefined) {
      const rewritten = rewriteRefs(schema) as JsonSchema;
      fn = coerce
        ? this.coercingAjv.compile({ type: "object", properties: { value: rewritten } })
        : this.strictAjv.compile(rewritten);
      this.cache.set(key, fn);
    }
    return fn;
  }

  /** The component schema `name` (e.g. "Pod"), for tests and the SSE payload check. */
  component(name: string): ValidateFunction {
    return this.validator({ $ref: `${COMPONENT_PREFIX}${name}` });
  }

  /** Violations of `data` against `schema`, each prefixed with `where`. */
  check(where: string, schema: JsonSchema, data: unknown): string[] {
    const fn = this.validator(schema);
    return fn(data) ? [] : unique((fn.errors ?? []).map((e) => formatAjvError(where, e)));
  }

  /** Like {@link check} for a string value (query parameter, header), coerced to the schema's type first. */
  checkCoerced(where: string, schema: JsonSchema, value: string | string[]): string[] {
    const fn = this.validator(schema, true);
    const holder = { value };
    if (fn(holder)) return [];
    return unique(
      (fn.errors ?? []).map((e) =>
        formatAjvError(where, { ...e, instancePath: e.instancePath.replace(/^\/value/, "") }, ""),
      ),
    );
  }
}

export function unique(items: string[]): string[] {
  return [...new Set(items)];
}
