import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LIVENESS_OPENAPI, LIVENESS_PATH } from './liveness';

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
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
}
