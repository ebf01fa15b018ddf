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

/**
 * helmet's header set through Nest's own security hook rather than @fastify/helmet: the hook writes to the
 * Node response, so streamed chat responses (written to `reply.raw`) and 404s carry `nosniff` as well. The
 * policy lets Swagger UI at /api/docs run (its bundle needs inline styles and data: images).
 */
export function installSecurityHeaders(app: NestFastifyApplication): void {
  app.useSecurityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        frameAncestors: ["'none'"],
      },
    },
    // An API called from other origins with CORS: browsers must be able to read its responses.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
}
