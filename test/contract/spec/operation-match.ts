import {
  HTTP_METHODS,
  type HttpMethod,
  type OpenApiDocument,
  type OperationObject,
  type ParameterObject,
} from "./openapi-document";
import { deref } from "./openapi-document";

/** A concrete request path resolved to the spec operation that serves it. */
export interface OperationMatch {
  method: HttpMethod;
  /** the spec's path template, e.g. `/v2/pods/{id}/logs` */
  pathTemplate: string;
  operationId: string;
  /** decoded path parameters, e.g. `{ id: "abc123" }` */
  pathParams: Record<string, string>;
  /** whatever came before the template (a base path such as `/runpod`), "" when none */
  prefix: string;
  operation: OperationObject;
  /** path-level and operation-level parameters merged (operation wins on name + in) */
  parameters: ParameterObject[];
}

interface Route {
  template: string;
  regex: RegExp;
  names: string[];
  literals: number;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileRoute(template: string): Route {
  const names: string[] = [];
  let literals = 0;
  const body = template
    .split("/")
    .map((segment) => {
      const param = /^\{([^}]+)\}$/.exec(segment);
      if (param?.[1] !== undefined) {
        names.push(param[1]);
        return "([^/]+)";
      }
      if (segment !== "") literals++;
      return escapeRegex(segment);
    })
    .join("/");
  return { template, regex: new RegExp(`^${body}$`), names, literals };
}

export class OperationMatcher {
  private readonly routes: Route[];

  constructor(private readonly doc: OpenApiDocument) {
    // most literal segments first, so /v2/registries/delegations beats /v2/registries/{id}
    this.routes = Object.keys(doc.paths)
      .map(compileRoute)
      .sort((a, b) => b.literals - a.literals || b.template.length - a.template.length);
  }

  /** The template that matches `pathname` (after the shortest base prefix that lets one match). */
  private route(pathname: string): { route: Route; values: string[]; prefix: string } | undefined {
    const firstSegments = this.routes.map((r) => `/${r.template.split("/")[1] ?? ""}`);
    for (let cut = 0; cut <= pathname.length; cut = pathname.indexOf("/", cut + 1)) {
      if (cut < 0) break;
      const rest = pathname.slice(cut);
      if (!firstSegments.some((s) => rest === s || rest.startsWith(`${s}/`))) continue;
      for (const route of this.routes) {
        const m = route.regex.exec(rest);
        if (m) return { route, values: m.slice(1), prefix: pathname.slice(0, cut) };
      }
    }
    return undefined;
  }

  /** Methods the spec declares for the path, [] when no template matches it. */
  allowedMethods(pathname: string): string[] {
    const found = this.route(pathname);
    if (!found) return [];
    const item = this.doc.paths[found.route.template] ?? {};
    return HTTP_METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
  }

  match(method: string, pathname: string): OperationMatch | undefined {
    const found = this.route(pathname);
    if (!found) return undefined;
    const lower = method.toLowerCase() as HttpMethod;
    const item = this.doc.paths[found.route.template];
    const operation = HTTP_METHODS.includes(lower) ? item?.[lower] : undefined;
    if (!item || !operation) return undefined;
    const pathParams: Record<string, string> = {};
    found.route.names.forEach((name, i) => {
      const raw = found.values[i] ?? "";
      let value = raw;
      try {
        value = decodeURIComponent(raw);
      } catch {
        // malformed escape: keep the raw segment, the schema check will see it
      }
      pathParams[name] = value;
    });
    const merged = new Map<string, ParameterObject>();
    for (const p of [...(item.parameters ?? []), ...(operation.parameters ?? [])]) {
      const param = deref<ParameterObject>(this.doc, p);
      merged.set(`${param.in}:${param.name}`, param);
    }
    return {
      method: lower,
      pathTemplate: found.route.template,
      operationId: operation.operationId ?? `${lower.toUpperCase()} ${found.route.template}`,
      pathParams,
      prefix: found.prefix,
      operation,
      parameters: [...merged.values()],
    };
  }
}
