import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * CORS through @fastify/cors (Nest's `enableCors`), for the origins of CORS_ORIGINS only: credentials,
 * preflight, the headers the contract names. No origins, no CORS headers at all.
 */
export function installCors(app: NestFastifyApplication, origins: string[]): void {
  if (!origins.length) return;
  app.enableCors({
    origin: origins,
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'X-Tenant-ID', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
    maxAge: 600,
  });
}
