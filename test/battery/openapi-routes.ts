/** The routes of the live OpenAPI document, reduced to what the battery needs to build requests for them. */

export type RouteAuth = 'clerk' | 'api_key' | 'webhook' | 'public';

export interface JsonSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  nullable?: boolean;
  default?: unknown;
  example?: unknown;
  $ref?: string;
}

export interface QueryParam {
  name: string;
  schema: JsonSchema;
}

export interface Route {
  method: string;
  /** The path template, e.g. `/api/tenants/{tenantId}/api-keys/{keyId}`. */
  path: string;
  pathParams: string[];
  query: QueryParam[];
  /** The JSON body's schema (refs resolved), or null for a route without a body. */
  body: JsonSchema | null;
  auth: RouteAuth;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OpenApiOperation {
  parameters?: { name: string; in: string; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: Record<string, unknown>[];
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

export function routesOf(doc: OpenApiDocument): Route[] {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (schema: JsonSchema | undefined): JsonSchema | null => {
    if (!schema) return null;
    if (schema.$ref) return resolve(schemas[schema.$ref.split('/').pop()!]);
    const properties = schema.properties
      ? Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(v) ?? {}]))
      : undefined;
    return {
      ...schema,
      ...(properties ? { properties } : {}),
      ...(schema.items ? { items: resolve(schema.items)! } : {}),
    };
  };
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (!METHODS.has(method)) continue;
      const security = (op.security ?? []).flatMap((s) => Object.keys(s));
      const auth: RouteAuth = security.includes('clerk')
        ? 'clerk'
        : security.includes('api_key')
          ? 'api_key'
          : path === '/api/webhooks/clerk'
            ? 'webhook'
            : 'public';
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
        query: (op.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: resolve(p.schema) ?? {} })),
        body: resolve(op.requestBody?.content?.['application/json']?.schema),
        auth,
      });
    }
  }
  return routes;
}

/** The inference routes (OpenAI's and Anthropic's shapes, both with `error.code`) and the models list. */
export function isOpenAiRoute(path: string): boolean {
  return /^\/api\/v1\/(chat\/completions|completions|embeddings|responses|messages|models)(\/|$)/.test(path);
}
