import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { RouteAuthPolicies } from '#libs/auth';
import { LIVENESS_OPENAPI, LIVENESS_PATH } from './liveness';
import { completeDocument } from './openapi-completion';

/** Every tag of the document, described; shown sorted by name. */
const TAGS: Record<string, string> = {
  admin: 'Platform administration, for the Clerk users listed in PLATFORM_ADMIN_USER_IDS',
  'api-keys': 'Tenant API keys (umk_…): created, listed, updated, rotated and revoked by owners and admins',
  audit: "A tenant's audit events",
  gateway:
    "OpenAI-compatible gateway on the user's own OpenRouter key (X-API-Key or Authorization: Bearer umk_…), and its usage",
  health: 'Liveness and readiness, public',
  'tenant integration': "API-key routes for a tenant's own backend: the key, the tenant's members",
  tenants: 'Tenants (Clerk organizations or personal tenants) and their members',
  users: 'The signed-in user: profile, tenants, own OpenRouter key and provider keys',
  webhooks: 'Clerk webhooks, verified with Svix signatures, public',
};

/** Controllers' tags that the document shows under another name. */
const RENAMED_TAGS: Record<string, string> = { 'OpenAI-compatible': 'gateway' };

/** Routes that belong under a tag other than their controller's (the README calls usage part of the gateway). */
const TAG_BY_PATH: [RegExp, string][] = [[/^\/api\/v1\/usage(\/|$)/, 'gateway']];

/** Swagger UI at /api/docs and the OpenAPI 3 document at /api/docs-json. */
export function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('User management backend')
      .setDescription(
        'Clerk sign-in, tenants and members, tenant API keys, per-user OpenRouter keys and an OpenAI-compatible gateway.',
      )
      .setVersion('1.0')
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Clerk session token' },
        'clerk',
      )
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Tenant API key (umk_…)' }, 'api_key')
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'umk_…',
          description: 'Tenant API key as `Authorization: Bearer umk_…` (OpenAI SDKs)',
        },
        'api_key_bearer',
      )
      .build(),
  );
  document.paths = { [LIVENESS_PATH]: LIVENESS_OPENAPI, ...document.paths }; // a Fastify route, not Nest's
  const policies = app.get(RouteAuthPolicies, { strict: false });
  const completed = completeDocument(organiseTags(document), (method, path) => policies.forRoute(method, path));
  SwaggerModule.setup('api/docs', app, completed, { jsonDocumentUrl: 'api/docs-json' });
}

/** Renames and regroups operations' tags, then lists every tag used, sorted, with its description. */
export function organiseTags(document: OpenAPIObject): OpenAPIObject {
  const used = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    const forced = TAG_BY_PATH.find(([re]) => re.test(path))?.[1];
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const) {
      const op = item[method];
      if (!op) continue;
      op.tags = forced ? [forced] : (op.tags ?? []).map((t) => RENAMED_TAGS[t] ?? t);
      op.tags.forEach((t) => used.add(t));
    }
  }
  document.tags = [...used]
    .sort((a, b) => a.localeCompare(b))
    .map((name) => (TAGS[name] ? { name, description: TAGS[name] } : { name }));
  return document;
}
