import { z } from "zod";
import { OPERATIONS, type Body, type Operation } from "./operations";
import { ADMIN_OPERATIONS } from "./admin-operations";
import { ARTIFACT_OPERATIONS } from "./artifact-operations";
import { SPEND_OPERATIONS } from "./spend-operations";
import { SECRETS_OPERATIONS } from "./secrets-operations";
import { RUN_PAGE_OPERATIONS } from "./run-page-operations";
import { RESUME_OPERATIONS } from "./resume-operations";
import { CACHE_VOLUME_OPERATIONS } from "./admin-cache-operations";
import { OPENAI_OPERATIONS } from "./openai-operations";

type Json = Record<string, unknown>;

const SECURITY: Record<Operation["security"], Json[]> = {
  apiKey: [{ apiKey: [] }],
  runToken: [{ runToken: [] }],
  admin: [{ apiKey: [] }, { adminBasic: [] }],
  none: [],
};

/** zod → JSON Schema (2020-12, OpenAPI 3.1's dialect); requests as clients send them, responses as the API writes them. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const out = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Json;
  delete out.$schema;
  return out;
}

function content(body: Body, io: "input" | "output"): Json | undefined {
  if (body.schema === undefined && body.contentType === undefined) return undefined;
  const media: Json = {};
  if (body.schema) media.schema = jsonSchema(body.schema, io);
  if (body.example !== undefined) media.example = body.example;
  return { [body.contentType ?? "application/json"]: media };
}

function parameters(op: Operation): Json[] {
  const params: Json[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  if (op.query) {
    const shape = jsonSchema(op.query, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(shape.properties ?? {}))
      params.push({ name, in: "query", required: shape.required?.includes(name) ?? false, schema });
  }
  for (const [name, description] of Object.entries(op.headers ?? {}))
    params.push({ name, in: "header", required: false, description, schema: { type: "string" } });
  return params;
}

function operation(op: Operation): Json {
  const responses: Json = {};
  for (const [status, body] of Object.entries(op.responses)) {
    const c = content(body, "output");
    responses[status] = { description: body.description, ...(c ? { content: c } : {}) };
  }
  const requestBody = op.body
    ? { required: true, description: op.body.description, content: content(op.body, "input") }
    : undefined;
  return {
    summary: op.summary,
    tags: [op.tag],
    operationId: `${op.method}${op.path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
    security: SECURITY[op.security],
    parameters: parameters(op),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

/** Every operation the document shows (the OpenAPI test checks each example against its schema). */
export const ALL_OPERATIONS: readonly Operation[] = [
  ...OPERATIONS,
  ...ADMIN_OPERATIONS,
  ...CACHE_VOLUME_OPERATIONS,
  ...ARTIFACT_OPERATIONS,
  ...SPEND_OPERATIONS,
  ...SECRETS_OPERATIONS,
  ...RUN_PAGE_OPERATIONS,
  ...RESUME_OPERATIONS,
  ...OPENAI_OPERATIONS,
];

/** The OpenAPI 3.1 document of the API, generated from the operation registry and its zod schemas. */
export function buildOpenApiDocument(version = "0.1.0"): Json {
  const paths: Record<string, Json> = {};
  for (const op of ALL_OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  return {
    openapi: "3.1.0",
    info: {
      title: "trainpod API",
      version,
      description:
        "Deploys GPU fine-tuning runs to RunPod and makes sure no GPU dollar is wasted. Money is exact decimal USD strings.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "an API key (tp_live_...)" },
        runToken: { type: "http", scheme: "bearer", description: "the run token handed to the pod" },
        adminBasic: {
          type: "http",
          scheme: "basic",
          description:
            "any user name, an admin's or operator's API key as the password: GET and HEAD only (scripts); browsers log in at /admin/login (a session cookie, same-origin checked)",
        },
      },
    },
    paths,
  };
}
