import type { OpenAPIObject, OperationObject, ParameterObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { errorShapeFor, statusName } from '#libs/common';

/** What a route demands of its caller, as the auth decorators say (RouteAuthPolicies). */
export interface OperationAuth {
  isPublic: boolean;
  /** Credentials accepted: the names of the document's security schemes. */
  kinds: readonly string[];
}

export type AuthOf = (method: string, path: string) => OperationAuth | undefined;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Path parameters the document shows under another name than the route's (a Fastify wildcard is `path`). */
const RENAMED_PATH_PARAMS: [RegExp, string, string, string][] = [
  [/^\/api\/v1\/models\/\{path\}$/, 'path', 'model', 'A model id; ids contain `/`, e.g. `openai/gpt-4o-mini`'],
];

/** The Anthropic-compatible route answers errors in Anthropic's shape. */
const ANTHROPIC_ROUTES = /^\/api\/v1\/messages(?:\/|$)/;

const ERROR_SCHEMAS: Record<string, SchemaObject> = {
  PlatformError: {
    type: 'object',
    description: 'The error shape of every route but the OpenAI- and Anthropic-compatible ones',
    required: ['statusCode', 'error', 'code', 'message', 'request_id'],
    properties: {
      statusCode: { type: 'integer', example: 401 },
      error: { type: 'string', example: 'Unauthorized' },
      code: { type: 'string', description: 'Stable machine code from the error catalogue', example: 'unauthenticated' },
      message: { type: 'string' },
      details: {
        type: 'object',
        additionalProperties: true,
        description: 'More about some errors, e.g. `fields` naming the offending input of a 400',
      },
      request_id: { type: 'string', description: 'Also in the X-Request-Id header' },
    },
  },
  OpenAiError: {
    type: 'object',
    description: "OpenAI's error shape, on the OpenAI-compatible routes",
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'code'],
        properties: {
          message: { type: 'string' },
          type: { type: 'string', example: 'invalid_request_error' },
          code: { type: 'string', nullable: true, example: 'invalid_api_key' },
          param: { type: 'string', nullable: true },
        },
      },
    },
  },
  AnthropicError: {
    type: 'object',
    description: "Anthropic's error shape, on the Anthropic-compatible route",
    required: ['type', 'error'],
    properties: {
      type: { type: 'string', enum: ['error'] },
      error: {
        type: 'object',
        required: ['type', 'message'],
        properties: {
          type: { type: 'string', example: 'authentication_error' },
          message: { type: 'string' },
          code: { type: 'string', description: 'The same machine code as on the other routes' },
        },
      },
    },
  },
};

/** What each error status means wherever it is not described more precisely by the route. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input (`validation_failed`, naming the offending fields)',
  401: 'No, malformed or invalid credentials (`unauthenticated`, `invalid_token`, `invalid_api_key`, `api_key_revoked`, `api_key_expired`)',
  403: 'Not allowed: a missing scope or role (`forbidden`), a disabled key, or `X-Tenant-ID` naming another tenant (`tenant_mismatch`)',
  404: 'No such resource, or one of another tenant',
  413: 'Body over the size limit',
  429: 'Too many requests or failed authentications (`rate_limited`, with Retry-After), or a quota or budget reached',
  500: 'Unexpected failure (`internal_error`), without details',
};

/**
 * Makes the generated document describe what the server does, so that client generators produce correct types:
 * every path parameter declared, every response described, every operation's errors (derived from its auth
 * policy, body, parameters) with the error shape of its route, and `servers` set. One pass over every route, so
 * that a controller added later is described the same way.
 */
export function completeDocument(document: OpenAPIObject, authOf: AuthOf): OpenAPIObject {
  document.servers = [{ url: '/', description: 'This server' }];
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...ERROR_SCHEMAS } };
  const paths: OpenAPIObject['paths'] = {};
  for (const [rawPath, item] of Object.entries(document.paths)) {
    const path = renamePathParams(rawPath, item);
    paths[path] = item;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const auth = authOf(method.toUpperCase(), toRoutePath(rawPath));
      declarePathParams(path, op);
      addErrorResponses(path, op, auth);
      describeResponses(op);
      // Public routes say so (no security requirement rather than none stated); a route without an auth
      // decorator takes Clerk sessions, which the document states too.
      if (!auth || auth.isPublic) op.security ??= [];
      else if (!op.security?.length) op.security = auth.kinds.map((kind) => ({ [kind]: [] }));
    }
  }
  document.paths = paths;
  for (const schema of Object.values(document.components.schemas ?? {})) typeNullableScalars(schema as SchemaObject);
  return document;
}

/**
 * A `T | null` property whose decorator names no type reaches the document as a nullable `object` (the
 * runtime type of a union is Object). Where the rest of its schema tells the scalar (a string format, a numeric
 * bound) it is typed here; DTOs should say `type:` themselves, this catches the ones that do not.
 */
function typeNullableScalars(schema: SchemaObject): void {
  for (const property of Object.values(schema.properties ?? {}) as SchemaObject[]) {
    if (!property.nullable || property.type !== 'object' || property.properties || property.allOf) continue;
    if (property.additionalProperties || '$ref' in property) continue;
    if (property.format || property.pattern || property.enum) property.type = 'string';
    else if (property.minimum !== undefined || property.maximum !== undefined) property.type = 'number';
  }
}

/** `/api/tenants/{tenantId}` → `/api/tenants/:tenantId`, and a `{path}` wildcard back to Fastify's `*`. */
function toRoutePath(path: string): string {
  return path.replace(/\{path\}$/, '*').replace(/\{([^}]+)\}/g, ':$1');
}

function renamePathParams(path: string, item: OpenAPIObject['paths'][string]): string {
  for (const [pattern, from, to, description] of RENAMED_PATH_PARAMS) {
    if (!pattern.test(path)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.parameters = (op.parameters ?? []).filter((p) => !('in' in p && p.in === 'path' && p.name === from));
      op.parameters.push({ name: to, in: 'path', required: true, description, schema: { type: 'string' } });
    }
    return path.replace(`{${from}}`, `{${to}}`);
  }
  return path;
}

/** Every `{name}` of the path as a required string parameter of each operation, typed where it was not. */
function declarePathParams(path: string, op: OperationObject): void {
  const parameters = (op.parameters ??= []) as ParameterObject[];
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    const declared = parameters.find((p) => p.in === 'path' && p.name === name);
    if (!declared) parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    else declared.schema ??= { type: 'string' };
  }
}

/** The error statuses an operation can answer, each with its route's error shape. */
function addErrorResponses(path: string, op: OperationObject, auth: OperationAuth | undefined): void {
  const parameters = (op.parameters ?? []) as ParameterObject[];
  const statuses = new Set<number>([500]);
  if (auth && !auth.isPublic) [401, 403, 429].forEach((s) => statuses.add(s));
  if (op.requestBody) [400, 413].forEach((s) => statuses.add(s));
  if (parameters.some((p) => p.in === 'query')) statuses.add(400);
  if (parameters.some((p) => p.in === 'path')) [400, 404].forEach((s) => statuses.add(s));
  const schema = { $ref: `#/components/schemas/${errorSchemaFor(path)}` };
  const content = { 'application/json': { schema } };
  for (const status of statuses) {
    const existing = op.responses[status] as ResponseObject | undefined;
    if (!existing) op.responses[status] = { description: ERROR_DESCRIPTIONS[status], content };
  }
  for (const [status, response] of Object.entries(op.responses)) {
    const r = response as ResponseObject;
    if (Number(status) >= 400 && !r.content) r.content = content;
  }
}

function errorSchemaFor(path: string): string {
  if (ANTHROPIC_ROUTES.test(path)) return 'AnthropicError';
  return errorShapeFor(path, true) === 'openai' ? 'OpenAiError' : 'PlatformError';
}

function describeResponses(op: OperationObject): void {
  for (const [status, response] of Object.entries(op.responses)) {
    const r = response as ResponseObject;
    if (!r.description) r.description = ERROR_DESCRIPTIONS[Number(status)] ?? statusName(Number(status));
  }
}
